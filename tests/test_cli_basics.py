from automodel_cli.cli import app
from typer.testing import CliRunner

from conftest import run_amx


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

    from conftest import EXAMPLES

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
