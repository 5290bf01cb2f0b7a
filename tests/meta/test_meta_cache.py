"""The remembered meta build: a second inspection answers exactly as the first, without building or importing;
a changed config, a corrupt or foreign entry is never trusted; the cache stays bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.tiny_models import save_tiny, tiny_config

from automodel_cli.analysis import inspection
from automodel_cli.analysis.inspection import inspect_model
from automodel_cli.files.config_reader import read_config
from automodel_cli.files.reference import resolve_config
from automodel_cli.knowledge.head_index import load_index
from automodel_cli.meta import meta_cache

# (family, class saved, head inspected): native heads and heads with new or unused weights.
CASES = [
    ("bert", "BertForSequenceClassification", None),
    ("bert", "BertForMaskedLM", "AutoModelForSequenceClassification"),
    ("gpt2", "GPT2LMHeadModel", None),
    ("t5", "T5ForConditionalGeneration", "AutoModel"),
    ("llama", "LlamaForCausalLM", None),
    ("vit", "ViTForImageClassification", None),
    ("wav2vec2", "Wav2Vec2ForCTC", "AutoModelForAudioClassification"),
]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    directory = tmp_path / "amx-cache"
    monkeypatch.setenv("AMX_CACHE_DIR", str(directory))
    return directory


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {(family, saved): save_tiny(saved, tiny_config(family), root / saved) for family, saved, _ in CASES}


def no_build(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the model was built although the cache holds it")

    monkeypatch.setattr(inspection, "instantiate", refuse)
    monkeypatch.setattr(inspection, "predict_loading", refuse)
    monkeypatch.setattr(inspection, "summarize_config", refuse)


@pytest.mark.parametrize("family, saved, head", CASES)
def test_cached_inspection_equals_the_live_one(models, cache, monkeypatch, family, saved, head):
    resolved = resolve_config(str(models[family, saved]))
    live = inspect_model(resolved, head=head)
    assert live.head.predicted
    no_build(monkeypatch)
    remembered = inspect_model(resolve_config(str(models[family, saved])), head=head)
    assert remembered == live


def test_same_config_elsewhere_hits_and_a_changed_config_misses(models, cache, monkeypatch, tmp_path):
    source = models["bert", "BertForSequenceClassification"]
    live = inspect_model(resolve_config(str(source)))
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("config.json", "model.safetensors"):
        (copy / name).write_bytes((source / name).read_bytes())
    changed = json.loads((copy / "config.json").read_text())
    with monkeypatch.context() as patched:
        no_build(patched)
        assert inspect_model(resolve_config(str(copy))).head == live.head
    changed["id2label"] = {"0": "a", "1": "b", "2": "c", "3": "d"}
    (copy / "config.json").write_text(json.dumps(changed))
    rebuilt = inspect_model(resolve_config(str(copy)))
    assert rebuilt.head.num_parameters != live.head.num_parameters  # a 4-label classifier, not the cached 3


def test_corrupt_and_foreign_entries_are_ignored(models, cache, monkeypatch):
    model = models["gpt2", "GPT2LMHeadModel"]
    live = inspect_model(resolve_config(str(model)))
    entries = sorted((cache / "meta").glob("*.json"))
    assert {p.name.partition("-")[0] for p in entries} == {"meta", "load", "summary", "kvcache"}
    other = models["llama", "LlamaForCausalLM"]
    inspect_model(resolve_config(str(other)))
    foreign = {p.name.partition("-")[0]: p for p in (cache / "meta").glob("*.json") if p not in entries}
    for entry in entries:  # each entry gets the other model's content under its own name
        entry.write_bytes(foreign[entry.name.partition("-")[0]].read_bytes())
    assert inspect_model(resolve_config(str(model))) == live
    for entry in entries:
        entry.write_text('{"format": 1, "key": ')
    assert inspect_model(resolve_config(str(model))) == live


def test_a_build_failure_is_remembered_with_its_message(cache, tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"],
                                                      "hidden_size": 30, "num_attention_heads": 4}))
    resolved = resolve_config(str(tmp_path))
    with pytest.raises(Exception) as first:
        inspect_model(resolved)
    no_build(monkeypatch)
    with pytest.raises(type(first.value)) as second:
        inspect_model(resolve_config(str(tmp_path)))
    assert str(second.value) == str(first.value)


def test_key_holds_versions_classes_and_config(models):
    config = read_config(models["gpt2", "GPT2LMHeadModel"] / "config.json")
    index = load_index()
    key = meta_cache.model_key(config, index, "AutoModelForCausalLM", "GPT2LMHeadModel").text
    assert "transformers " in key and "torch " in key and "modeling_gpt2.py" in key and "configuration_gpt2.py" in key
    other = meta_cache.model_key(config, index, "AutoModel", "GPT2Model").text
    assert other != key


def test_the_cache_is_bounded(models, cache, monkeypatch):
    monkeypatch.setattr(meta_cache, "MAX_ENTRIES", 4)
    for family, saved, head in CASES[:3]:
        inspect_model(resolve_config(str(models[family, saved])), head=head)
    assert len(list((cache / "meta").glob("*.json"))) == 4
    assert not list((cache / "meta").glob(".entry-*"))  # no temporary file left behind


def test_second_inspect_imports_neither_torch_nor_transformers(models, cache):
    probe = (  # an exit handler: the entry point leaves without Python's teardown once torch is loaded
        "import atexit, sys, runpy; sys.argv = ['amx', 'inspect', sys.argv[1], '--json']\n"
        "atexit.register(lambda: print('torch' in sys.modules, 'transformers' in sys.modules, file=sys.stderr))\n"
        "runpy.run_module('automodel_cli', run_name='__main__')\n"
    )
    model = str(models["llama", "LlamaForCausalLM"])
    env = {**os.environ, "AMX_CACHE_DIR": str(cache)}
    runs = [subprocess.run([sys.executable, "-c", probe, model], capture_output=True, text=True, env=env, timeout=300)
            for _ in range(2)]
    assert runs[0].stderr.split()[-2:] == ["True", "True"]
    assert runs[1].stderr.split()[-2:] == ["False", "False"]
    assert json.loads(runs[1].stdout) == json.loads(runs[0].stdout)


def test_check_with_size_limits_reuses_the_cache(models, cache, monkeypatch, tmp_path):
    """`amx check` with max-parameters/max-memory on many models: the second run builds nothing."""
    from automodel_cli import check_models

    config_only = []
    for family, saved, _ in CASES[:4]:
        folder = tmp_path / saved
        folder.mkdir(exist_ok=True)
        (folder / "config.json").write_bytes((models[family, saved] / "config.json").read_bytes())
        config_only.append(folder)
    entries = [{"model": str(path), "max-parameters": "1B", "max-memory": "1GB"} for path in
               [*config_only, *(models[family, saved] for family, saved, _ in CASES[:4])]]
    first = check_models(entries)
    assert first.exit_code == 0, [(m.model, m.reason) for m in first.models]
    no_build(monkeypatch)
    second = check_models(entries)
    assert [(m.model, m.status, m.checks) for m in second.models] == [(m.model, m.status, m.checks) for m in first.models]


def test_heads_check_weights_remembers_each_head(models, cache, monkeypatch):
    """`amx heads --check-weights` predicts every head; the second time from the cache alone."""
    from automodel_cli.analysis.inspection import check_heads_against_checkpoint
    from automodel_cli.knowledge.heads import heads_for_config

    def checked():
        resolved = resolve_config(str(models["bert", "BertForMaskedLM"]))
        report = heads_for_config(resolved.config, load_index(), "bert")
        check_heads_against_checkpoint(report, resolved)
        return [(h.auto_class, h.new_weights, h.note) for h in report.heads]

    first = checked()
    assert ("AutoModelForMaskedLM", False, "") in first
    assert any(new and note.startswith("new: ") for _, new, note in first)
    no_build(monkeypatch)
    assert checked() == first
