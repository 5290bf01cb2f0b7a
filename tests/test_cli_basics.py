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
