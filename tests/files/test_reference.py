"""Model references: `parse_reference` on well-formed and malformed input, and the CLI's answer to
malformed references (exit 2, one line, no traceback) before any network or file access.
tests/test_hostile.py runs a few of these through every command; this is the full matrix."""

from __future__ import annotations

import json
import re

import pytest
from support import PROJECT_ROOT
from support.preloaded import run_amx_preloaded
from typer.testing import CliRunner

from automodel_cli.base.errors import (
    ExitCode,
    InvalidReferenceError,
    ModelNotFoundError,
)
from automodel_cli.cli import app
from automodel_cli.files.reference import (
    MAX_REFERENCE_LENGTH,
    local_file,
    parse_reference,
)

CONFIG = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}

# (reference, what the one-line error must say); none of them may reach the network or the disk.
MALFORMED = {
    "empty": ("", "empty"),
    "blank": ("   ", "empty"),
    "traversal-in-hub-id": ("org/../../x", "'..'"),
    "newline": ("org/na\nme", "control characters"),
    "tab": ("org/\tname", "control characters"),
    "escape-sequence": ("org/\x1b[31mred", "control characters"),
    "nul": ("org/na\x00me", "control characters"),
    "delete": ("org/name\x7f", "control characters"),
    "c1-control": ("org/name\x85", "control characters"),
    "bidi-override": ("org/n\u202eeman", "control characters"),
    "too-long": ("a" * 10_000, f"at most {MAX_REFERENCE_LENGTH}"),
    "double-dash": ("org/na--me", "'--'"),
    "three-parts": ("org/name/extra", "Hub id"),
    "leading-dash": ("-org/name", "Hub id"),
    "revision-traversal": ("org/name@../main", "revision"),
    "revision-only": ("@main", "Hub id"),
    "space": ("org/my model", "Hub id"),
}


@pytest.fixture
def model_dir(tmp_path):
    path = tmp_path / "my-model"
    path.mkdir()
    (path / "config.json").write_text(json.dumps(CONFIG))
    return path


@pytest.mark.parametrize(
    ("text", "revision", "repo_id", "expected_revision"),
    [
        ("gpt2", None, "gpt2", None),
        ("openai-community/gpt2", None, "openai-community/gpt2", None),
        ("org/name@v1.0", None, "org/name", "v1.0"),
        ("org/name", "dev", "org/name", "dev"),
        ("org/name@dev", "dev", "org/name", "dev"),
        ("org/name@refs/pr/1", None, "org/name", "refs/pr/1"),
        ("Org_1/name.v2", None, "Org_1/name.v2", None),
    ],
)
def test_hub_ids(text, revision, repo_id, expected_revision):
    ref = parse_reference(text, revision)
    assert (ref.repo_id, ref.revision, ref.local_dir, ref.is_local) == (repo_id, expected_revision, None, False)
    assert ref.display() == (f"{repo_id}@{expected_revision}" if expected_revision else repo_id)


def test_a_local_directory(model_dir):
    ref = parse_reference(str(model_dir))
    assert ref.is_local and ref.local_dir == model_dir.resolve() and ref.repo_id is None
    assert ref.config_file == "config.json"


def test_a_local_config_file(model_dir):
    ref = parse_reference(str(model_dir / "config.json"))
    assert ref.local_dir == model_dir.resolve() and ref.config_file == "config.json"


def test_an_existing_relative_path_wins_over_a_hub_id(model_dir, monkeypatch):
    (model_dir / "org" / "name").mkdir(parents=True)
    (model_dir / "org" / "name" / "config.json").write_text(json.dumps(CONFIG))
    monkeypatch.chdir(model_dir)
    assert parse_reference("org/name").local_dir == (model_dir / "org" / "name").resolve()


def test_an_existing_parent_relative_path_is_fine(model_dir, monkeypatch):
    (model_dir / "sub").mkdir()
    monkeypatch.chdir(model_dir / "sub")
    assert parse_reference("..").local_dir == model_dir.resolve()
    assert parse_reference("../config.json").local_dir == model_dir.resolve()


def test_a_local_directory_without_config_json(tmp_path):
    with pytest.raises(ModelNotFoundError, match="without config.json"):
        parse_reference(str(tmp_path))


@pytest.mark.parametrize("text", ["./typo", "../typo", "../../no-such-dir/../x"])
def test_a_missing_local_directory_is_not_found(text, tmp_path, monkeypatch):
    """A path that is not there is a missing model (exit 1), however it is written; never malformed input."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelNotFoundError, match=f"no such local directory: {re.escape(text)}$"):
        parse_reference(text)


def test_revision_is_refused_for_a_local_path(model_dir):
    with pytest.raises(InvalidReferenceError, match="--revision"):
        parse_reference(str(model_dir), "main")


def test_two_different_revisions_are_refused():
    with pytest.raises(InvalidReferenceError, match="'v1' but --revision says 'v2'"):
        parse_reference("org/name@v1", "v2")


@pytest.mark.parametrize(("text", "why"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_references(text, why):
    with pytest.raises(InvalidReferenceError) as raised:
        parse_reference(text)
    assert raised.value.exit_code == ExitCode.BAD_INPUT
    assert why in raised.value.message
    assert "\n" not in raised.value.message and len(raised.value.message) < 200


def test_files_outside_a_local_model_are_refused(model_dir):
    ref = parse_reference(str(model_dir))
    assert local_file(ref, "config.json") == model_dir.resolve() / "config.json"
    for escaping in ("../config.json", "/etc/passwd", "sub/../../x"):
        with pytest.raises(InvalidReferenceError, match="outside the model directory"):
            local_file(ref, escaping)


@pytest.mark.parametrize(("text", "why"), list(MALFORMED.values()), ids=list(MALFORMED))
def test_cli_rejects_malformed_references_with_exit_2(text, why, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["heads", "--json", "--", text])
    assert result.exit_code == ExitCode.BAD_INPUT, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: invalid model reference") and why in lines[0]
    assert len(lines) <= 2 and all(line.startswith(("error: ", "hint: ")) for line in lines)


def test_a_tilde_naming_no_user_is_a_malformed_reference():
    with pytest.raises(InvalidReferenceError, match="names no user"):
        parse_reference("~nosuchuser-amx/x")


def test_a_relative_path_is_shown_as_typed():
    """Headers and --json's `model` show the reference as the user typed it, not the resolved path."""
    heads = run_amx_preloaded("heads", "examples/gpt2", "--json", cwd=PROJECT_ROOT)
    assert heads.returncode == 0, heads.stderr
    assert json.loads(heads.stdout)["model"] == "examples/gpt2"
    human = run_amx_preloaded("heads", "./examples/gpt2/", cwd=PROJECT_ROOT)
    assert human.stdout.startswith("./examples/gpt2  model_type=gpt2")
    doctor = run_amx_preloaded("doctor", "examples/gpt2", "--json", cwd=PROJECT_ROOT)
    assert json.loads(doctor.stdout)["subject"] == "examples/gpt2"


def test_a_mistyped_local_path_says_no_such_folder_and_what_the_hub_said():
    result = run_amx_preloaded("heads", "examples/nonexistent", cwd=PROJECT_ROOT)
    assert result.returncode == 1 and result.stdout == ""
    first, hint = result.stderr.splitlines()
    assert first.startswith("error: no such local folder: examples/nonexistent; as a Hub id: HF_HUB_OFFLINE is set")
    assert hint.startswith("hint: check the path ('ls examples')")
    doctor = run_amx_preloaded("doctor", "examples/nonexistent", cwd=PROJECT_ROOT)
    assert "not-found: no such local folder: examples/nonexistent" in doctor.stdout
    # A Hub id whose first part is no local folder gets the Hub's answer alone.
    hub_only = run_amx_preloaded("heads", "some-org/not-cached-anywhere", cwd=PROJECT_ROOT)
    assert hub_only.stderr.startswith("error: HF_HUB_OFFLINE is set")


def test_piped_messages_are_not_wrapped():
    long_name = "x" * 96  # the longest name a Hub id part can have: the line runs past 240 columns
    result = run_amx_preloaded("doctor", f"examples/{long_name}", cwd=PROJECT_ROOT)
    finding = next(line for line in result.stdout.splitlines() if "not-found" in line)
    assert long_name in finding
