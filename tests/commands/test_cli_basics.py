import os
import re
import shlex
import subprocess
import sys

import pytest
from support import PROJECT_ROOT, run_amx
from typer.testing import CliRunner

from automodel_cli.cli import app


def test_help_lists_commands_with_an_example():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "heads" in result.output
    assert "amx heads bert-base-uncased" in result.output


def test_version_names_every_component():
    result = run_amx("--version")
    assert result.returncode == 0
    for name in ("amx 0.1.0", "transformers 5.", "torch 2.", "huggingface_hub "):
        assert name in result.stdout


def test_a_hugging_face_cache_folder_is_a_model_reference(tmp_path):
    """The layout huggingface_hub writes: refs/main -> commit, snapshots/<commit>/config.json -> ../../blobs/x."""
    import shutil

    from support import EXAMPLES

    repo = tmp_path / "models--openai-community--gpt2"
    commit = "a" * 40
    (repo / "blobs").mkdir(parents=True)
    shutil.copy(EXAMPLES / "gpt2" / "config.json", repo / "blobs" / "0123")
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").symlink_to("../../blobs/0123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)

    result = run_amx("heads", str(repo), "--json")
    assert result.returncode == 0, result.stderr
    assert '"native_head": "AutoModelForCausalLM"' in result.stdout

    missing = run_amx("heads", str(repo), "--revision", "v2")
    assert missing.returncode == 1
    assert "no snapshot for revision 'v2'" in missing.stderr and "cached refs: main" in missing.stderr


def test_every_command_help_teaches_with_an_example():
    import typer.main

    commands = typer.main.get_command(app).commands
    assert set(commands) >= {"heads", "inspect", "source", "tasks", "doctor", "check"}
    for name in commands:
        result = CliRunner().invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert f"amx {name} " in result.output, f"amx {name} --help shows no example"


def _examples(help_text: str) -> list[str]:
    """The indented command lines after 'Examples:' in a docstring."""
    _, _, after = help_text.partition("Examples:")
    return [line.strip() for line in after.splitlines() if line.startswith("    ") and line.strip()]


def test_help_reads_cleanly_at_80_columns():
    """Usage lines start with the command, options show no type labels, and examples fit without wrapping."""
    import typer.main

    group = typer.main.get_command(app)
    for name in [None, *group.commands]:
        result = run_amx(*([name] if name else []), "--help", env={"COLUMNS": "80"})
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80, name
        usage = next(line.strip() for line in lines if "Usage:" in line)
        assert usage.startswith(f"Usage: amx {name or ''}".rstrip()), usage
        for noise in ("<bool>", "<int>", "<path>"):
            assert noise not in result.stdout, (name, noise)
        examples = _examples((group.commands[name] if name else group).help)
        assert examples, f"amx {name} --help shows no example"
        shown = {line.strip() for line in lines}
        for example in examples:
            assert example in shown, f"wrapped at 80 columns: {example}"


def _option_lines(help_text: str) -> dict[str, str]:
    """Each option's help line by its long name: what follows the name up to the description."""
    found = {}
    for line in help_text.splitlines():
        if match := re.match(r" {2}(?:-\w, )?(--[\w-]+)(.*)$", line):  # deeper: a wrapped description
            found[match.group(1)] = match.group(2)
    return found


def test_flags_show_as_flags_and_options_with_their_metavar():
    """Through Typer's public API only (metavar=...): `--json`, never `--json JSON` or `--json <bool>`;
    `--revision REV`, never `--revision TEXT`. Every option of every command, as --help prints it."""
    import typer.main

    group = typer.main.get_command(app)
    for name, command in [(None, group), *group.commands.items()]:
        shown = _option_lines(run_amx(*([name] if name else []), "--help", env={"COLUMNS": "80"}).stdout)
        options = [p for p in command.params if p.param_type_name == "option" and not p.hidden]
        assert {"--help"} | {next(o for o in p.opts if o.startswith("--")) for p in options} <= set(shown), name
        for param in options:
            long = next(o for o in param.opts if o.startswith("--"))
            rest = shown[long]
            if param.is_flag:
                assert rest == "" or rest.startswith("  "), (name, long, rest)
            else:
                assert param.metavar, f"amx {name} {long} takes a value but names no metavar"
                assert rest == f" {param.metavar}" or rest.startswith(f" {param.metavar}  "), (name, long, rest)
        assert shown["--help"] == "" or shown["--help"].startswith("  ")


def test_usage_marks_optional_arguments_once():
    """Typer's own usage line: `[QUERY]` (typer 0.16 shows a metavar as given, `QUERY`), never `[[QUERY]]`."""
    assert re.search(r"Usage: amx tasks \[OPTIONS\] \[?QUERY\]?\n", run_amx("tasks", "--help").stdout)
    assert re.search(r"Usage: amx doctor \[OPTIONS\] \[?MODEL\]?\n", run_amx("doctor", "--help").stdout)
    assert re.search(r"Usage: amx source \[OPTIONS\] \{?AUTOCLASS\}? \{?MODEL\}?\n", run_amx("source", "--help").stdout)
    assert re.search(r"-r, --revision REV\s", run_amx("heads", "--help").stdout)


def test_leaving_without_torchs_teardown_keeps_output_exit_status_and_exit_handlers(tiny_bert_dir, tmp_path):
    """The entry point skips Python's teardown once torch is loaded (cli.main): what a normal exit does for
    the user still happens. A failing head check (a new classifier is a doctor finding) exits 1."""
    import json
    import os
    import subprocess
    import sys

    from support import PROJECT_ROOT

    program = ("import atexit, sys; from automodel_cli.cli import main; "
               "atexit.register(lambda: print('exit handler ran', file=sys.stderr)); main()")
    env_path = {"PYTHONPATH": str(PROJECT_ROOT), "AMX_CACHE_DIR": str(tmp_path / "cache")}
    for args, status in ((["inspect", str(tiny_bert_dir), "--json"], 0),
                         (["doctor", str(tiny_bert_dir), "--head", "token-classification", "--json"], 1)):
        done = subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True,
                              env={**os.environ, **env_path}, timeout=120)
        assert done.returncode == status, done.stderr
        assert json.loads(done.stdout)  # the whole document reached the pipe
        assert done.stderr.strip().endswith("exit handler ran")


@pytest.mark.parametrize("args", [("heads", "examples/bert-base-uncased"), ("heads", "examples/bert-base-uncased", "--json"),
                                  ("inspect", "examples/gpt2", "--all"), ("tasks", "ner", "--json")],
                         ids=["table", "json", "inspect-torch", "tasks"])
def test_a_reader_that_stops_reading_is_not_a_failure(args):
    """`amx heads X | head -1` under `set -o pipefail`: the reader went away, amx exits 0 without a word."""
    command = shlex.join([sys.executable, "-m", "automodel_cli", *args])
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    for reader in ("head -1", "true"):  # `true` closes the pipe before amx writes its first byte
        shell = subprocess.run(["bash", "-o", "pipefail", "-c", f"{command} | {reader} >/dev/null"],
                               capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=120)
        assert (shell.returncode, shell.stderr) == (0, ""), (reader, shell.stderr)
