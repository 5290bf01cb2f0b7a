"""The plain install (`pip install automodel_cli`, no torch) answers as the full one wherever headers and
config.json suffice, and names the torch extra in one line where a meta build is needed.

Each command runs twice, in the plain virtualenv whose interpreter AMX_PLAIN_PYTHON names (`.ci/run`
builds it with pip from this checkout, as a user installs) and in this one (torch installed), on the
same files; the answers are compared.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from support import EXAMPLES, run_amx
from support.gguf_files import write_tiny_gguf

EXTRA = "pip install 'automodel_cli[torch]'"


@pytest.fixture(scope="module")
def plain_python() -> str:
    python = os.environ.get("AMX_PLAIN_PYTHON")
    if not python:
        pytest.skip("AMX_PLAIN_PYTHON names no plain virtualenv (bash .ci/run builds one)")
    return python


def _both(plain_python: str, *args: str) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """(plain, full) runs of one command."""
    return run_amx(*args, python=plain_python), run_amx(*args)


def _json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_plain_install_has_no_torch(plain_python):
    done = subprocess.run([plain_python, "-m", "pip", "list", "--format=json"], capture_output=True, text=True,
                          check=True)
    installed = {package["name"].lower().replace("_", "-") for package in json.loads(done.stdout)}
    assert not installed & {"torch", "triton"}, sorted(installed)
    assert not {name for name in installed if name.startswith("nvidia-")}
    assert {"transformers", "huggingface-hub", "safetensors", "typer", "rich"} <= installed


def test_version_says_torch_is_not_installed(plain_python):
    result = run_amx("--version", python=plain_python)
    assert result.returncode == 0, result.stderr
    assert "torch not installed" in result.stdout.splitlines()


@pytest.mark.parametrize("args", [
    ("heads", str(EXAMPLES / "bert-base-uncased")),
    ("heads", str(EXAMPLES / "llama-3-8b"), "--processors"),
    ("tasks", "ner"),
    ("tasks",),
])
def test_what_needs_no_build_answers_as_with_torch(plain_python, args):
    """heads (the head index is built in each environment's own cache) and tasks."""
    plain, full = _both(plain_python, *args, "--json")
    assert _json(plain) == _json(full)
    assert "Traceback" not in plain.stderr


def test_source_is_read_statically_as_with_torch(plain_python):
    """The code and the short contract are read from transformers' files; what only the imported class
    tells (types, defaults, documented shapes: the --json contract) names the extra."""
    args = ("source", "AutoModelForSequenceClassification", str(EXAMPLES / "distilbert-sst2"))
    plain, full = _both(plain_python, *args)
    assert plain.returncode == full.returncode == 0, plain.stderr
    assert plain.stdout == full.stdout
    plain, full = (_json(r) for r in _both(plain_python, *args, "--json"))
    assert plain["methods"] == full["methods"]
    assert [i["name"] for i in plain["contract"]["inputs"]] == [i["name"] for i in full["contract"]["inputs"]]
    assert any(EXTRA in note for note in plain["notes"])


def test_inspect_of_a_safetensors_checkpoint_gives_the_header_facts(plain_python, tiny_bert_dir):
    plain, full = (_json(r) for r in _both(plain_python, "inspect", str(tiny_bert_dir), "--json"))
    for field in ("model", "source", "checkpoint_format", "checkpoint_bytes", "checkpoint_dtype", "dtypes",
                  "memory_bytes", "kv_cache", "groups", "summary"):
        assert plain[field] == full[field], field
    assert [t["name"] for t in plain["parameters"]] == [t["name"] for t in full["parameters"]]
    assert plain["head"]["auto_class"] == full["head"]["auto_class"]
    assert plain["head"]["missing_keys"] is None and full["head"]["missing_keys"] is not None
    assert EXTRA in plain["head"]["note"]


def test_inspect_of_a_gguf_checkpoint_gives_the_header_facts(plain_python, tmp_path):
    path = tmp_path / "tiny.gguf"
    write_tiny_gguf(path)
    plain, full = (_json(r) for r in _both(plain_python, "inspect", str(path), "--json"))
    for field in ("total_parameters", "checkpoint_bytes", "dtypes", "memory_bytes", "summary"):
        assert plain[field] == full[field], field
    # The gguf package is a test extra here; the plain install says that loading the file needs it.
    assert {**plain["gguf"], "gguf_package": None} == full["gguf"]
    assert any(EXTRA in note for note in plain["notes"])


def test_heads_check_weights_keeps_the_class_level_guess_and_names_the_extra(plain_python, tiny_bert_dir):
    plain, full = _both(plain_python, "heads", str(tiny_bert_dir), "--check-weights")
    assert plain.returncode == full.returncode == 0, plain.stderr
    note = next(line for line in plain.stdout.splitlines() if EXTRA in line)
    assert "class-level guess" in note


def test_check_and_doctor_of_a_safetensors_checkpoint_give_the_full_verdict(plain_python, tiny_bert_dir):
    plain, full = _both(plain_python, "check", str(tiny_bert_dir), "--json")
    assert plain.returncode == full.returncode
    assert [m["status"] for m in json.loads(plain.stdout)["models"]] == [m["status"] for m in json.loads(full.stdout)["models"]]
    plain, full = _both(plain_python, "doctor", str(tiny_bert_dir), "--json")
    assert plain.returncode == full.returncode
    assert json.loads(plain.stdout)["verdict"] == json.loads(full.stdout)["verdict"]


def test_doctor_of_a_quantized_model_says_the_quantization_was_not_checked(plain_python):
    """The quantizer's checks run in transformers with torch: without it, no verdict may pass them."""
    plain, full = _both(plain_python, "doctor", str(EXAMPLES / "deepseek-r1-fp8"), "--json")
    assert plain.returncode == full.returncode == 1
    plain_findings = {f["code"]: f for f in json.loads(plain.stdout)["findings"]}
    assert "dequantized-load" in {f["code"] for f in json.loads(full.stdout)["findings"]}
    unchecked = plain_findings["quantization-not-checked"]
    assert unchecked["severity"] == "unchecked" and EXTRA in unchecked["message"] and "no-weights" in plain_findings


@pytest.mark.parametrize("args", [
    ("inspect", str(EXAMPLES / "gpt2")),
    ("inspect", str(EXAMPLES / "gpt2"), "--json"),
])
def test_a_config_only_model_points_at_the_extra_in_one_line(plain_python, args):
    result = run_amx(*args, python=plain_python)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and EXTRA in result.stderr, result.stderr


def test_help_is_clean_without_torch(plain_python):
    result = run_amx("inspect", "--help", python=plain_python)
    assert result.returncode == 0
    assert "  --json  " in result.stdout and "<bool>" not in result.stdout
