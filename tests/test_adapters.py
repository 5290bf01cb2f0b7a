"""PEFT adapters: amx follows base_model_name_or_path as transformers does and answers for base + adapter.

The adapters are made at test time with peft on tiny models transformers saves; the ground truth is what
peft and transformers report when they really load them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_amx
from tiny_models import save_tiny, tiny_config

pytest.importorskip("peft")


def _lora(base: Path, auto_class: str, directory: Path, **lora) -> Path:
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    model = getattr(transformers, auto_class).from_pretrained(base)
    get_peft_model(model, LoraConfig(**lora)).save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def adapters(tmp_path_factory) -> dict[str, Path]:
    """A LoRA on a tiny causal LM, and a LoRA sequence classifier on a tiny BertModel (the classifier in
    modules_to_save, as peft puts it there for SEQ_CLS)."""
    root = tmp_path_factory.mktemp("adapters")
    llama = save_tiny("LlamaForCausalLM", tiny_config("llama"), root / "llama")
    bert = save_tiny("BertModel", tiny_config("bert"), root / "bert")
    return {
        "llama": llama,
        "bert": bert,
        "lora-llama": _lora(llama, "AutoModelForCausalLM", root / "lora-llama", task_type="CAUSAL_LM", r=4,
                            lora_alpha=8, target_modules=["q_proj", "v_proj"]),
        "lora-bert-cls": _lora(bert, "AutoModelForSequenceClassification", root / "lora-bert-cls",
                               task_type="SEQ_CLS", r=2, target_modules=["query", "value"]),
    }


def amx_json(*args: str, env: dict | None = None) -> dict:
    result = run_amx(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_heads_of_a_causal_lm_adapter_are_the_base_heads(adapters):
    report = amx_json("heads", str(adapters["lora-llama"]))
    base = amx_json("heads", str(adapters["llama"]))
    assert [h["auto_class"] for h in report["heads"]] == [h["auto_class"] for h in base["heads"]]
    assert report["native_head"] == "AutoModelForCausalLM"
    assert report["adapter"]["peft_type"] == "LORA"
    assert report["adapter"]["task_type"] == "CAUSAL_LM"
    assert report["adapter"]["base_model"] == str(adapters["llama"])
    assert sorted(report["adapter"]["target_modules"]) == ["q_proj", "v_proj"]


def test_task_type_makes_the_native_head_and_the_saved_classifier_is_not_new(adapters):
    result = run_amx("heads", str(adapters["lora-bert-cls"]))
    assert result.returncode == 0, result.stderr
    assert "native head: AutoModelForSequenceClassification" in result.stdout
    report = amx_json("heads", str(adapters["lora-bert-cls"]))
    heads = {h["auto_class"]: h for h in report["heads"]}
    assert heads["AutoModelForSequenceClassification"]["native"]
    assert heads["AutoModelForSequenceClassification"]["new_weights"] is False
    assert heads["AutoModelForTokenClassification"]["new_weights"] is True
    # The base alone (a BertModel checkpoint) has no native classifier.
    assert amx_json("heads", str(adapters["bert"]))["native_head"] != "AutoModelForSequenceClassification"
