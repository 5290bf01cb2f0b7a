"""`amx diff A B` through the real entry point: human and --json output, exit codes, two revisions of one Hub
repository, and hostile pairs (an answer or one line on stderr, never a traceback)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from support import EXAMPLES
from support.preloaded import run_amx_preloaded
from support.tiny_models import FAMILIES, llama_variants

REPO = "amx-test/diff-llama"


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    return llama_variants(tmp_path_factory.mktemp("diff-cli"))


def diff_json(*args: str, env: dict | None = None, code: int = 1) -> dict:
    result = run_amx_preloaded("diff", *args, "--json", env=env)
    assert result.returncode == code, result.stderr
    payload = json.loads(result.stdout)
    assert payload["schema"] == "amx.diff/1"
    return payload


def test_same_model_exits_0_in_human_and_json(models):
    result = run_amx_preloaded("diff", str(models["llama"]), str(models["copy"]))
    assert result.returncode == 0, result.stderr
    assert "the same structure" in result.stdout and "tensors: the same names, shapes and dtypes" in result.stdout
    payload = diff_json(str(models["llama"]), str(models["copy"]), code=0)
    assert payload["same"] is True and payload["config"] == []
    assert payload["weights"] == "unknown"  # local files: no listed hash, and the weights are never read
    assert payload["tensors"] == {"added": [], "removed": [], "changed": []}
    assert payload["structure_digest"]["a"] == payload["structure_digest"]["b"]
    size = (models["llama"] / "model.safetensors").stat().st_size
    assert payload["checkpoint_file_bytes"] == {"a": {"model.safetensors": size}, "b": {"model.safetensors": size}}


def test_resized_vocabulary_collapses_layers_in_human_output(models):
    result = run_amx_preloaded("diff", str(models["llama"]), str(models["resized"]))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert any("model.embed_tokens.weight" in line and "[99, 32] F32" in line and "[120, 32] BF16" in line
               for line in lines)
    assert any("model.layers.{0,1}.mlp.up_proj.weight" in line and "×2" in line for line in lines)
    assert any(line.startswith("vocab_size") and "99" in line and "120" in line for line in lines)
    payload = diff_json(str(models["llama"]), str(models["resized"]))
    changed = {c["name"]: c for c in payload["tensors"]["changed"]}
    assert {"model.layers.0.mlp.up_proj.weight", "model.layers.1.mlp.up_proj.weight"} <= changed.keys()
    assert changed["lm_head.weight"]["a"] == {"shape": [99, 32], "dtype": "F32"}
    assert changed["lm_head.weight"]["b"] == {"shape": [120, 32], "dtype": "BF16"}
    assert {"field": "vocab_size", "a": 99, "b": 120, "kind": "changed", "absent": None} in payload["config"]
    assert payload["parameters"]["a"] < payload["parameters"]["b"]


def test_classifier_heads_and_load_into(models):
    payload = diff_json(str(models["llama"]), str(models["classifier"]), "--load-into", "a")
    assert payload["heads"]["native"] == {"a": "AutoModelForCausalLM", "b": "AutoModelForSequenceClassification"}
    assert [t["name"] for t in payload["tensors"]["added"]] == ["score.weight"]
    assert payload["load_into"]["missing_keys"] == ["lm_head.weight"]
    assert payload["load_into"]["unexpected_keys"] == ["score.weight"]
    result = run_amx_preloaded("diff", str(models["llama"]), str(models["classifier"]), "--load-into", "a")
    assert "B's checkpoint loaded into A's head" in result.stdout
    assert "newly initialised (1): lm_head.weight" in result.stdout


def test_two_revisions_of_one_hub_repository(local_hub, models):
    local_hub.add_repo(REPO, models["llama"], branches={"v2": models["resized"]})
    env = local_hub.env()
    payload = diff_json(REPO, f"{REPO}@v2", env=env)
    assert payload["a"] == REPO and payload["b"] == f"{REPO}@v2"
    assert any(c["name"] == "model.embed_tokens.weight" for c in payload["tensors"]["changed"])
    assert payload["checkpoint_files"] == {"a": ["model.safetensors"], "b": ["model.safetensors"]}
    assert payload["checkpoint_file_bytes"] == {
        side: {"model.safetensors": (models[name] / "model.safetensors").stat().st_size}
        for side, name in (("a", "llama"), ("b", "resized"))}
    assert payload["checkpoint_file_sha256"] == {
        side: {"model.safetensors": hashlib.sha256((models[name] / "model.safetensors").read_bytes()).hexdigest()}
        for side, name in (("a", "llama"), ("b", "resized"))}
    assert payload["weights"] == "different"
    same = diff_json(REPO, f"{REPO}@main", env=env, code=0)
    assert same["same"] is True and same["weights"] == "identical"
    human = run_amx_preloaded("diff", REPO, f"{REPO}@main", env=env)
    assert "weights: the same bytes" in human.stdout
    local_digest = json.loads(run_amx_preloaded("inspect", str(models["llama"]), "--json").stdout)["structure_digest"]
    assert same["structure_digest"] == {"a": local_digest, "b": local_digest}


def test_a_missing_side_is_bad_input(models, tmp_path):
    result = run_amx_preloaded("diff", str(models["llama"]), str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: B (") and "Traceback" not in result.stderr


def test_an_unreadable_side_is_bad_input(models, tmp_path):
    broken = Path(shutil.copytree(models["llama"], tmp_path / "broken"))
    (broken / "model.safetensors").write_bytes(b"\xff" * 16)
    result = run_amx_preloaded("diff", str(broken), str(models["llama"]))
    assert result.returncode == 2
    assert result.stderr.startswith("error: A (") and "Traceback" not in result.stderr
    (broken / "config.json").write_text("{not json")
    assert run_amx_preloaded("diff", str(models["llama"]), str(broken)).returncode == 2


def test_config_only_examples_of_two_model_types():
    result = run_amx_preloaded("diff", str(EXAMPLES / "distilbert-sst2"), str(EXAMPLES / "bert-base-uncased"))
    assert result.returncode == 1, result.stderr
    assert "heads: native AutoModelForSequenceClassification → AutoModelForMaskedLM" in result.stdout
    payload = diff_json(str(EXAMPLES / "distilbert-sst2"), str(EXAMPLES / "bert-base-uncased"))
    model_type = {"field": "model_type", "a": "distilbert", "b": "bert", "kind": "changed", "absent": None}
    assert model_type in payload["config"]
    assert payload["source"] == {"a": "meta", "b": "meta"}


def test_two_quantizations_of_one_gguf_model(tmp_path):
    import gguf
    from support.gguf_files import write_tiny_gguf

    full = write_tiny_gguf(tmp_path / "tiny-F32.gguf", ggml_type="F32")
    quantized = write_tiny_gguf(tmp_path / "tiny-Q8_0.gguf", ggml_type="Q8_0")
    types = [{t.name: t.tensor_type.name for t in gguf.GGUFReader(str(path)).tensors} for path in (full, quantized)]
    payload = diff_json(str(full), str(quantized))
    changed = {c["name"]: (c["a"]["dtype"], c["b"]["dtype"]) for c in payload["tensors"]["changed"]}
    assert changed == {name: (types[0][name], types[1][name]) for name in types[0] if types[0][name] != types[1][name]}
    assert payload["quantization"]["b"] == "Q8_0" and payload["source"] == {"a": "gguf", "b": "gguf"}
    result = run_amx_preloaded("diff", str(full), str(quantized))
    assert result.returncode == 1 and "Q8_0" in result.stdout


def test_all_fields_shows_what_is_not_a_difference(tmp_path):
    for name, extra in (("a", {"hidden_act": "silu", "transformers_version": "5.0.0"}), ("b", {})):
        (tmp_path / name).mkdir()
        config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], **FAMILIES["llama"][1], **extra}
        (tmp_path / name / "config.json").write_text(json.dumps(config))
    assert diff_json(str(tmp_path / "a"), str(tmp_path / "b"), code=0)["config"] == []
    shown = diff_json(str(tmp_path / "a"), str(tmp_path / "b"), "--all-fields", code=0)["config"]
    assert {(c["field"], c["kind"], c["absent"]) for c in shown} == {("hidden_act", "default", "b"),
                                                                    ("transformers_version", "bookkeeping", "b")}
    human = run_amx_preloaded("diff", str(tmp_path / "a"), str(tmp_path / "b"), "--all-fields")
    assert human.returncode == 0 and "absent on one side, at its class default" in human.stdout

