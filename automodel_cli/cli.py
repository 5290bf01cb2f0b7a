"""The `amx` command line: wiring of the commands, `--version`, and the entry point."""

from __future__ import annotations

import atexit
import os
import sys
from typing import Annotated

import typer

from .commands.check import check
from .commands.diff import diff
from .commands.doctor import doctor
from .commands.heads import heads
from .commands.inspect import inspect
from .commands.source import source
from .commands.tasks import tasks

app = typer.Typer(
    name="amx",
    help=(
        "Inspect Hugging Face models and pick the right AutoModel head, from config.json and "
        "safetensors headers alone: no weight downloads, no repository code run.\n\n"
        "Examples:\n\n\b\n"
        "    amx heads bert-base-uncased\n"
        "    amx inspect gpt2 --json\n"
        "    amx source qa distilbert-base-uncased-distilled-squad\n"
        "    amx tasks ner\n"
        "    amx doctor ./my-model --head AutoModelForSequenceClassification\n"
        "    amx check --manifest amx.toml\n"
        "    amx diff org/model@v1.0 org/model@main\n\n"
        "MODEL is a Hub id (gpt2, org/name, org/name@rev), a local directory or a Hugging Face cache "
        "folder. HF_ENDPOINT, HF_HUB_OFFLINE, HF_HOME and HF_TOKEN work as in huggingface_hub."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("heads")(heads)
app.command("inspect")(inspect)
app.command("source")(source)
app.command("check")(check)
app.command("tasks")(tasks)
app.command("doctor")(doctor)
app.command("diff")(diff)


def _versions() -> str:
    import importlib.metadata

    lines = []
    for package in ("automodel_cli", "transformers", "torch", "huggingface_hub"):
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        lines.append(f"{'amx' if package == 'automodel_cli' else package} {version}")
    return "\n".join(lines)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(_versions())
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True,
                     help="Print the versions of amx, transformers, torch and huggingface_hub."),
    ] = False,
) -> None:
    """amx: which AutoModel class fits a checkpoint, what is inside it, and what its forward takes."""


def main() -> None:
    """The `amx` entry point.

    Once torch and transformers are loaded, Python's teardown of their modules takes over a second (1.3 s
    on 2 cores, a fifth of a first `amx inspect`) and does nothing for a command that has finished: the exit
    handlers run and the streams are flushed as usual, then the process leaves without that teardown.
    """
    # transformers advises at import that without torch it has no models: amx says itself what needs torch.
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    try:
        app(prog_name="amx")
        code: object = 0
    except SystemExit as done:
        if "torch" not in sys.modules:
            raise
        code = done.code
    if "torch" not in sys.modules:
        return
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # what SystemExit("message") prints
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`amx ... | head`): nothing left to tell it
            pass
    os._exit(code or 0)
