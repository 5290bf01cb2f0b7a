"""Option types shared by the commands, and the one place where errors become messages and exit codes."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from ..base.errors import AmxError, ExitCode
from ..render import Output, reader_gone

ModelArg = Annotated[
    str,
    typer.Argument(
        metavar="MODEL",
        help="Hub id ('gpt2', 'org/name', 'org/name@rev'), a local directory with config.json, or a config.json file.",
        show_default=False,
    ),
]
RevisionOpt = Annotated[
    str | None, typer.Option("--revision", "-r", metavar="REV", help="Branch, tag or commit of a Hub model.", show_default=False)
]
TokenOpt = Annotated[
    str | None,
    typer.Option("--token", metavar="TOKEN", help="Hugging Face token for private or gated models (default: HF_TOKEN).",
                 show_default=False),
]
SubfolderOpt = Annotated[
    str | None,
    typer.Option("--subfolder", metavar="NAME", show_default=False,
                 help="The model's folder inside the repository (a pipeline component such as text_encoder), "
                      "as from_pretrained(..., subfolder=NAME)."),
]
GgufFileOpt = Annotated[
    str | None,
    typer.Option("--gguf-file", metavar="NAME", show_default=False,
                 help="Read this GGUF file of MODEL (as from_pretrained(..., gguf_file=NAME)); needed when "
                      "it holds several."),
]
VariantOpt = Annotated[
    str | None,
    typer.Option("--variant", metavar="NAME", show_default=False,
                 help="Read the weights saved with variant NAME (model.NAME.safetensors), as "
                      "from_pretrained(..., variant=NAME)."),
]
ImportOpt = Annotated[
    list[str] | None,
    typer.Option("--import", metavar="MODULE", show_default=False,
                 help="Import this module of yours first (this runs its code), so that the models it registers "
                      "with the Auto classes (AutoConfig.register, AutoModel.register) count. Repeatable; the "
                      "current directory is importable. Imports transformers, even for `amx heads`."),
]
DeviceOpt = Annotated[
    str | None,
    typer.Option("--device", metavar="DEVICE", show_default=False,
                 help="Ask what loading a quantized checkpoint does on another machine: cpu, cuda, cuda:8.9 "
                      "(compute capability), xpu or mps; with the packages installed here."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON (schemas: docs/json.md).")]

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn AmxError (and anything unexpected) into one line on stderr and the right exit code.

    Set AMX_DEBUG=1 to see the traceback of unexpected errors.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AmxError as error:
            Output().error(error.message, error.hint)
            raise typer.Exit(int(error.exit_code)) from None
        except KeyboardInterrupt:
            Output().error("interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except (typer.Exit, typer.Abort):
            raise
        except BrokenPipeError:
            reader_gone()
        except Exception as error:  # noqa: BLE001 - the last line of defence against tracebacks
            if os.environ.get("AMX_DEBUG"):
                raise
            Output().error(
                f"unexpected {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
                hint="this is a bug in amx; rerun with AMX_DEBUG=1 for the traceback and report it",
            )
            raise typer.Exit(int(ExitCode.FAILURE)) from None

    return wrapper  # type: ignore[return-value]


def index_building_status(out: Output):
    """The `on_build` callback of `head_index.load_index`: a spinner for the one-off build."""
    return lambda: out.status("Indexing the Auto classes of the installed transformers (once)")


def import_registered(modules: list[str] | None, out: Output) -> None:
    """`--import`: run the user's modules so their Auto registrations count (nothing happens without it)."""
    if modules:
        from ..knowledge.registered import import_modules

        with out.status(f"Importing {', '.join(modules)}"):
            import_modules(modules)
