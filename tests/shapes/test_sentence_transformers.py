"""sentence-transformers models: the module chain from modules.json, each module's parameters and the
embedding dimension, checked against the model sentence-transformers itself loads (made at test time)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.preloaded import run_amx_preloaded
from support.tiny_models import save_tiny, tiny_config

pytest.importorskip("sentence_transformers")


def _save(transformer_dir: Path, directory: Path):
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import (
        Dense,
        Normalize,
        Pooling,
        Transformer,
    )

    torch.manual_seed(0)
    transformer = Transformer(str(transformer_dir))
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    dense = Dense(in_features=pooling.get_embedding_dimension(), out_features=16, activation_function=torch.nn.Tanh())
    model = SentenceTransformer(modules=[transformer, pooling, dense, Normalize()])
    model.save(str(directory))
    return SentenceTransformer(str(directory), device="cpu")


@pytest.fixture(scope="session")
def sentence_model(tmp_path_factory) -> tuple[Path, object]:
    """A tiny BERT -> mean Pooling -> Dense(32 -> 16, Tanh) -> Normalize, saved and reloaded by
    sentence-transformers."""
    from transformers import BertTokenizerFast

    root = tmp_path_factory.mktemp("sentence-transformers")
    bert = save_tiny("BertModel", tiny_config("bert"), root / "bert")
    vocabulary = root / "vocab.txt"
    vocabulary.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(94)]))
    BertTokenizerFast(vocab_file=str(vocabulary)).save_pretrained(bert)
    return root / "model", _save(bert, root / "model")


def amx_json(*args: str, env: dict | None = None) -> dict:
    result = run_amx_preloaded(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_inspect_reports_the_chain_as_sentence_transformers_loads_it(sentence_model):
    directory, loaded = sentence_model
    report = amx_json("inspect", str(directory))
    assert [(m["type"], m["path"]) for m in report["modules"]] == [
        ("Transformer", ""), ("Pooling", "1_Pooling"), ("Dense", "2_Dense"), ("Normalize", "3_Normalize")]
    assert [m["num_parameters"] for m in report["modules"]] == [
        sum(p.numel() for p in module.parameters()) for module in loaded]
    assert report["embedding_dimension"] == loaded.get_embedding_dimension() == 16
    assert report["total_parameters"] == sum(p.numel() for p in loaded.parameters())
    assert {"name", "type", "path", "num_parameters"} <= set(report["modules"][0])
    assert report["adapter"] is None and report["components"] is None


def test_inspect_human_shows_the_chain(sentence_model):
    result = run_amx_preloaded("inspect", str(sentence_model[0]))
    assert result.returncode == 0, result.stderr
    assert "Transformer → Pooling(mean) → Dense(32 → 16, Tanh) → Normalize(L2)" in result.stdout
    assert "embedding dimension 16" in result.stdout
    assert "2_Dense/linear.weight" in result.stdout


def test_heads_answer_for_the_transformer_module(sentence_model):
    report = amx_json("heads", str(sentence_model[0]))
    assert report["model_type"] == "bert" and report["native_head"] == "AutoModel"
    assert any("sentence-transformers" in note for note in report["notes"])


def test_a_transformer_module_in_a_subfolder(sentence_model, tmp_path):
    """The older layout: the Transformer module in 0_Transformer/, not at the root."""
    directory, loaded = sentence_model
    moved = tmp_path / "moved"
    shutil.copytree(directory, moved)
    (moved / "0_Transformer").mkdir()
    for name in ("config.json", "model.safetensors", "sentence_bert_config.json", "tokenizer.json",
                 "tokenizer_config.json"):
        if (moved / name).exists():
            (moved / name).rename(moved / "0_Transformer" / name)
    modules = json.loads((moved / "modules.json").read_text())
    modules[0]["path"] = "0_Transformer"
    (moved / "modules.json").write_text(json.dumps(modules))
    report = amx_json("inspect", str(moved))
    assert report["modules"][0]["path"] == "0_Transformer"
    assert report["total_parameters"] == sum(p.numel() for p in loaded.parameters())
    assert amx_json("heads", str(moved))["model_type"] == "bert"


def test_through_the_local_hub(local_hub, sentence_model, tmp_path):
    directory, loaded = sentence_model
    local_hub.add_repo("amx-test/tiny-sentence-model", directory)
    report = amx_json("inspect", "amx-test/tiny-sentence-model", env=local_hub.env(tmp_path))
    assert report["embedding_dimension"] == 16
    assert report["total_parameters"] == sum(p.numel() for p in loaded.parameters())
    snapshots = {p.name for p in (tmp_path / "hub").glob("models--amx-test--tiny-sentence-model/snapshots/*/**/*")
                 if p.is_file()}
    assert not any(name.endswith(".safetensors") for name in snapshots)  # headers only, over range requests
