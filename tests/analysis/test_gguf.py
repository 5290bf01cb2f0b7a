"""GGUF checkpoints through every command, checked against what transformers itself builds from the
same files (AutoConfig / from_pretrained(..., gguf_file=...)), locally and over the local Hub."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import PROJECT_ROOT
from support.gguf_files import (
    CONTEXT,
    HEADS,
    HIDDEN,
    KV_HEADS,
    LAYERS,
    VOCAB,
    tiny_parameter_count,
    write_tiny_gguf,
)
from support.preloaded import run_amx_preloaded

pytest.importorskip("gguf")

# folder -> (file name, architecture, GGML type of the 2-D weights, tied embeddings)
FILES = {
    "llama-q8": ("tiny-llama-Q8_0.gguf", "llama", "Q8_0", False),
    "qwen2-f16": ("tiny-qwen2-F16.gguf", "qwen2", "F16", False),
    "llama-f32-tied": ("tiny-llama-F32.gguf", "llama", "F32", True),
}
UNSUPPORTED = "command-r"


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gguf-models")
    for folder, (name, arch, ggml_type, tied) in FILES.items():
        write_tiny_gguf(root / folder / name, arch, ggml_type, tied)
    write_tiny_gguf(root / "unsupported" / "tiny-command-r-F16.gguf", UNSUPPORTED, "F16")
    for name in ("tiny-llama-Q8_0.gguf", "tiny-qwen2-F16.gguf"):
        shutil.copy(next(root.glob(f"*/{name}")), (root / "several").mkdir(exist_ok=True) or root / "several")
    (root / "with-config").mkdir()
    shutil.copy(root / "llama-q8" / "tiny-llama-Q8_0.gguf", root / "with-config")
    (root / "with-config" / "config.json").write_text(json.dumps(
        {"model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": 99, "hidden_size": 32,
         "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 37}))
    write_tiny_gguf(root / "split" / "tiny-llama-Q8_0.gguf", "llama", "Q8_0", split_max_tensors=8)
    return root


def _amx_json(*args: str, env: dict | None = None) -> dict:
    result = run_amx_preloaded(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("folder", sorted(FILES))
def test_derived_config_is_the_one_transformers_builds(models, folder):
    from transformers import CONFIG_MAPPING, AutoConfig

    from automodel_cli.formats.gguf_header import read_gguf_file
    from automodel_cli.knowledge.gguf_config import derive_config

    name = FILES[folder][0]
    derived = derive_config(read_gguf_file(models / folder / name), name)
    theirs = AutoConfig.from_pretrained(models / folder, gguf_file=name).to_dict()
    ours = CONFIG_MAPPING[derived.model_type](**derived.config).to_dict()
    for key in ("_name_or_path", "name_or_path"):
        theirs.pop(key, None), ours.pop(key, None)
    assert derived.loadable and ours == theirs


@pytest.mark.parametrize("folder", sorted(FILES))
def test_inspect_matches_what_from_pretrained_loads(models, folder):
    import torch
    from transformers import AutoModelForCausalLM

    name, arch, ggml_type, tied = FILES[folder]
    data = _amx_json("inspect", str(models / folder))
    model = AutoModelForCausalLM.from_pretrained(models / folder, gguf_file=name)
    config = model.config
    summary = data["summary"]
    assert data["source"] == data["checkpoint_format"] == "gguf"
    assert (summary["model_type"], summary["architecture"]) == (config.model_type, type(model).__name__)
    assert (summary["layers"], summary["hidden_size"], summary["attention_heads"], summary["key_value_heads"],
            summary["vocab_size"], summary["context_length"]) == (
        config.num_hidden_layers, config.hidden_size, config.num_attention_heads, config.num_key_value_heads,
        config.vocab_size, config.max_position_embeddings) == (LAYERS, HIDDEN, HEADS, KV_HEADS, VOCAB, CONTEXT)
    assert data["total_parameters"] == model.num_parameters() == tiny_parameter_count(arch, tied)
    assert data["head"]["auto_class"] == "AutoModelForCausalLM" and data["head"]["num_parameters"] == model.num_parameters()
    g = data["gguf"]
    assert (g["file"], g["architecture"], g["version"], g["quantization"]) == (name, arch, 3, ggml_type)
    assert g["transformers_loadable"] is True and g["model_type"] == config.model_type
    assert sum(t["parameters"] for t in g["tensor_types"].values()) == data["total_parameters"]
    assert sum(t["bytes"] for t in g["tensor_types"].values()) == data["memory_bytes"]["checkpoint"]
    assert set(g["tensor_types"]) == {ggml_type, "F32"}
    assert g["dequantized_dtype"] == {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}[model.dtype]
    assert g["dequantized_bytes"] == model.num_parameters() * model.dtype.itemsize
    kv = data["kv_cache"]
    assert kv["bytes_per_token"] == 2 * LAYERS * KV_HEADS * (HIDDEN // HEADS) * model.dtype.itemsize


def test_inspect_human_output_shows_the_gguf_facts(models):
    result = run_amx_preloaded("inspect", str(models / "llama-q8" / "tiny-llama-Q8_0.gguf"))
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "GGUF tiny-llama-Q8_0.gguf v3, architecture llama, Q8_0" in out
    assert "GGML type ┃ tensors ┃ parameters ┃ bytes ┃ bits/weight" in out and "8.50" in out
    assert "transformers loads it as llama, dequantized to F32" in out
    assert "blk.{0,1}.attn_q.weight" in out and "AutoModelForCausalLM → LlamaForCausalLM" in out


@pytest.mark.parametrize("folder", sorted(FILES))
def test_heads_are_those_of_the_derived_model_type(models, folder):
    data = _amx_json("heads", str(models / folder))
    expected = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM"}[FILES[folder][1]]
    assert data["native_head"] == "AutoModelForCausalLM" and data["architectures"] == [expected]
    assert {h["model_class"] for h in data["heads"] if h["native"]} == {expected}
    assert any("GGUF file" in note for note in data["notes"])
    human = run_amx_preloaded("heads", str(models / folder))
    assert human.returncode == 0 and "★ │ AutoModelForCausalLM" in human.stdout


def test_an_architecture_transformers_cannot_load(models):
    from transformers import AutoConfig

    with pytest.raises(ValueError, match="not supported"):
        AutoConfig.from_pretrained(models / "unsupported", gguf_file="tiny-command-r-F16.gguf")
    heads = run_amx_preloaded("heads", str(models / "unsupported"))
    assert heads.returncode == 1 and heads.stdout == ""
    assert "cannot load GGUF architecture 'command-r'" in heads.stderr and "transformers " in heads.stderr
    data = _amx_json("inspect", str(models / "unsupported"))
    assert data["gguf"]["transformers_loadable"] is False and data["head"] is None
    assert data["total_parameters"] == tiny_parameter_count(UNSUPPORTED)
    assert (data["summary"]["layers"], data["summary"]["hidden_size"]) == (LAYERS, HIDDEN)  # llama.cpp's keys
    doctor = run_amx_preloaded("doctor", str(models / "unsupported"), "--json")
    assert doctor.returncode == 1
    assert [f["code"] for f in json.loads(doctor.stdout)["findings"]] == ["gguf-unsupported-architecture"]


def test_several_gguf_files_are_listed_until_one_is_chosen(models):
    for command in (["heads"], ["inspect"], ["doctor"], ["source", "AutoModel"]):
        result = run_amx_preloaded(*command, str(models / "several"))
        assert result.returncode == 2, (command, result.stderr)
        assert "holds 2 GGUF checkpoints: tiny-llama-Q8_0.gguf (Q8_0, " in result.stderr
        assert "tiny-qwen2-F16.gguf (F16, " in result.stderr and "--gguf-file" in result.stderr
    data = _amx_json("heads", str(models / "several"), "--gguf-file", "tiny-qwen2-F16.gguf")
    assert data["model_type"] == "qwen2"
    missing = run_amx_preloaded("inspect", str(models / "several"), "--gguf-file", "nope.gguf")
    assert missing.returncode == 1 and "has no GGUF file 'nope.gguf'" in missing.stderr
    escaping = run_amx_preloaded("heads", str(models / "several"), "--gguf-file", "../x.gguf")
    assert escaping.returncode == 2 and "must be the name of a .gguf file inside the model" in escaping.stderr


def test_config_json_wins_unless_a_gguf_file_is_asked_for(models):
    assert _amx_json("heads", str(models / "with-config"))["model_type"] == "bert"
    asked = _amx_json("heads", str(models / "with-config"), "--gguf-file", "tiny-llama-Q8_0.gguf")
    assert asked["model_type"] == "llama"


def test_a_split_checkpoint_is_one(models):
    parts = sorted(p.name for p in (models / "split").iterdir())
    assert len(parts) > 2 and parts[0] == f"tiny-llama-Q8_0-00001-of-0000{len(parts)}.gguf"
    data = _amx_json("inspect", str(models / "split"))
    assert data["checkpoint_files"] == data["gguf"]["parts"] == parts
    assert data["total_parameters"] == tiny_parameter_count("llama")
    assert data["checkpoint_bytes"] == sum((models / "split" / p).stat().st_size for p in parts)
    (models / "split-missing").mkdir()
    for part in parts[:-1]:
        shutil.copy(models / "split" / part, models / "split-missing")
    broken = run_amx_preloaded("inspect", str(models / "split-missing"))
    assert broken.returncode == 2 and f"of {len(parts)} parts, but {len(parts) - 1} are present" in broken.stderr


def test_doctor_and_source_read_the_derived_config(models):
    """from_pretrained(folder) fails on a GGUF folder; with gguf_file= it loads: doctor says both."""
    from transformers import AutoModelForCausalLM

    folder, name = models / "llama-q8", "tiny-llama-Q8_0.gguf"
    with pytest.raises((OSError, ValueError), match="config.json"):
        AutoModelForCausalLM.from_pretrained(folder)
    AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    unnamed = run_amx_preloaded("doctor", str(folder), "--json")
    assert unnamed.returncode == 1
    finding = json.loads(unnamed.stdout)["findings"][0]
    assert finding["code"] == "gguf-file-required" and f"gguf_file={name!r}" in finding["fix"]
    assert f"--gguf-file {name}" in run_amx_preloaded("doctor", str(folder)).stdout
    doctor = json.loads(run_amx_preloaded("doctor", str(folder), "--gguf-file", name, "--json").stdout)
    assert (doctor["verdict"], doctor["model_class"], doctor["findings"]) == ("ok", "LlamaForCausalLM", [])
    other = run_amx_preloaded("doctor", str(folder), "--gguf-file", name, "--head", "ner", "--json")
    assert other.returncode == 1 and json.loads(other.stdout)["findings"][0]["code"] == "new-weights"
    source = run_amx_preloaded("source", "causal-lm", str(models / "qwen2-f16"), "--contract")
    assert source.returncode == 0 and "Qwen2ForCausalLM" in source.stdout


def test_check_manifest_takes_a_gguf_file(models, tmp_path):
    manifest = tmp_path / "amx.toml"
    manifest.write_text(f'''[[models]]
model = "{models / 'several'}"
gguf-file = "tiny-qwen2-F16.gguf"
heads = ["AutoModelForCausalLM"]
max-parameters = "100K"

[[models]]
model = "{models / 'unsupported'}"
''')
    data = json.loads(run_amx_preloaded("check", "--manifest", str(manifest), "--json").stdout)
    first, second = data["models"]
    assert first["status"] == "pass" and first["model_type"] == "qwen2"
    assert any(c["constraint"] == "max-parameters" and "78,400 parameters" in c["message"] for c in first["checks"])
    assert second["status"] == "fail" and "cannot load GGUF architecture 'command-r'" in second["reason"]
    direct = run_amx_preloaded("check", str(models / "several"), "--gguf-file", "tiny-llama-Q8_0.gguf", "--head", "causal-lm",
                     "--json")
    assert direct.returncode == 0 and json.loads(direct.stdout)["models"][0]["model_type"] == "llama"
    manifest.write_text(f'[[models]]\nmodel = "{models / "several"}"\ngguf-file = "weights.bin"\n')
    bad = run_amx_preloaded("check", "--manifest", str(manifest))
    assert bad.returncode == 2 and "amx.toml:3: models[0].gguf-file: must be the name of a .gguf file" in bad.stderr


@pytest.fixture(scope="module")
def gguf_repo(local_hub, tmp_path_factory) -> str:
    """Two GGUF files whose tensor data dwarfs their headers, and no config.json."""
    root = tmp_path_factory.mktemp("gguf-hub")
    write_tiny_gguf(root / "tiny-llama-Q8_0.gguf", "llama", "Q8_0", vocab=4096)
    write_tiny_gguf(root / "tiny-llama-F32.gguf", "llama", "F32", vocab=4096)
    local_hub.add_repo("amx-test/tiny-llama-gguf", {"README.md": "tiny", **{p.name: p for p in root.iterdir()}})
    local_hub.add_repo("amx-test/one-gguf", {"model-Q8_0.gguf": root / "tiny-llama-Q8_0.gguf"})
    return "amx-test/tiny-llama-gguf"


def test_hub_gguf_reads_only_the_header(local_hub, gguf_repo):
    local_hub.served_bytes()
    data = _amx_json("inspect", gguf_repo, "--gguf-file", "tiny-llama-F32.gguf", env=local_hub.env())
    served = local_hub.served_bytes()
    file_bytes = data["checkpoint_bytes"]
    g = data["gguf"]
    assert data["total_parameters"] == tiny_parameter_count("llama", vocab=4096) and g["quantization"] == "F32"
    assert served == {f"{gguf_repo}/tiny-llama-F32.gguf": g["bytes_read"]}
    assert g["bytes_read"] <= max(64 * 1024, 2 * g["header_bytes"]) and g["bytes_read"] * 10 < file_bytes
    listed = run_amx_preloaded("heads", gguf_repo, env=local_hub.env())
    assert listed.returncode == 2 and "holds 2 GGUF checkpoints" in listed.stderr
    assert "tiny-llama-Q8_0.gguf (Q8_0" in listed.stderr and "tiny-llama-F32.gguf (F32" in listed.stderr
    one = _amx_json("heads", "amx-test/one-gguf", env=local_hub.env())
    assert one["native_head"] == "AutoModelForCausalLM" and one["model_type"] == "llama"
    assert local_hub.served_bytes()["amx-test/one-gguf/model-Q8_0.gguf"] <= 2 * g["header_bytes"]


def test_doctor_names_the_missing_gguf_package(models):
    """Without the gguf package (blocked the way Python blocks a module: sys.modules['gguf'] = None),
    transformers cannot load a GGUF file; amx itself reads it all the same."""
    script = ("import runpy, sys; sys.modules['gguf'] = None; sys.argv = ['amx'] + sys.argv[1:]; "
              "runpy.run_module('automodel_cli', run_name='__main__')")

    def amx_without_gguf(*args: str):
        return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})

    doctor = amx_without_gguf("doctor", str(models / "llama-q8"), "--json")
    assert doctor.returncode == 1, doctor.stderr
    finding = json.loads(doctor.stdout)["findings"][0]
    assert finding["code"] == "missing-dependency" and "gguf" in finding["message"] and "gguf>=0.10.0" in finding["fix"]
    inspect = amx_without_gguf("inspect", str(models / "llama-q8"), "--json")
    data = json.loads(inspect.stdout)
    assert data["gguf"]["gguf_package"].startswith("the gguf package is not installed")
    assert data["total_parameters"] == tiny_parameter_count("llama")
