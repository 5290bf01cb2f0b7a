"""Experts and active parameters of mixture-of-experts models: tiny models of each expert layout with
hand-counted experts, and real releases' configs against their published figures."""

from __future__ import annotations

import json

import pytest
from support import EXAMPLES
from support.preloaded import run_amx_preloaded

from automodel_cli.files.config_reader import read_config
from automodel_cli.files.reference import resolve_config
from automodel_cli.formats.safetensors_header import read_headers
from automodel_cli.formats.tensors import TensorSpec
from automodel_cli.knowledge.config_summary import summarize_config
from automodel_cli.knowledge.moe import moe_summary

SIZES = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
             intermediate_size=16)


def _saved(config_class: str, tmp_path, **arguments):
    import torch
    import transformers

    torch.manual_seed(0)
    config = getattr(transformers, config_class)(**SIZES, **arguments)
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.save_pretrained(tmp_path)
    return model


def _structure(model) -> list[TensorSpec]:
    return [TensorSpec(name, tuple(p.shape), "F32") for name, p in model.named_parameters()]


def _header_tensors(directory) -> list[TensorSpec]:
    headers = read_headers(resolve_config(str(directory)).ref)
    return [TensorSpec(t.name, tuple(t.shape), t.dtype) for t in headers.tensors]


def test_per_expert_checkpoint_and_fused_model_count_the_same_experts(tmp_path):
    model = _saved("MixtralConfig", tmp_path, num_local_experts=4, num_experts_per_tok=2)
    summary = summarize_config(read_config(tmp_path / "config.json"))
    total = model.num_parameters()
    routed = 2 * 4 * 3 * 32 * 16  # 2 layers of 4 experts, each w1, w2, w3 of 32 x 16
    checkpoint = _header_tensors(tmp_path)
    assert any(".experts.0.w1." in t.name for t in checkpoint)  # the checkpoint keeps one module per expert
    assert any(t.name.endswith("experts.gate_up_proj") for t in _structure(model))  # the model fuses them
    for tensors in (checkpoint, _structure(model)):
        moe = moe_summary(summary, tensors, total, 2 * 99 * 32)
        assert (moe.experts, moe.experts_per_token, moe.shared_experts) == (4, 2, 0)
        assert moe.expert_parameters == routed
        assert moe.active_parameters == total - routed // 2
        assert moe.active_parameters_without_input_embedding == moe.active_parameters - 99 * 32


def test_fused_experts_with_biases(tmp_path):
    model = _saved("GptOssConfig", tmp_path, head_dim=8, num_local_experts=4, num_experts_per_tok=1)
    moe = moe_summary(summarize_config(read_config(tmp_path / "config.json")), _structure(model),
                      model.num_parameters(), None)
    per_layer = 4 * (32 * 32 + 32 + 16 * 32 + 32)  # gate_up [4, 32, 2x16] and its bias, down [4, 16, 32] and its bias
    assert moe.expert_parameters == 2 * per_layer
    assert moe.active_parameters == model.num_parameters() - 2 * per_layer * 3 // 4
    assert moe.input_embedding_parameters is None


def test_shared_experts_and_dense_layers_are_always_active(tmp_path):
    model = _saved("DeepseekV3Config", tmp_path, moe_intermediate_size=8, n_routed_experts=4, num_experts_per_tok=2,
                   n_shared_experts=1, first_k_dense_replace=1, n_group=1, topk_group=1, kv_lora_rank=16,
                   q_lora_rank=24, qk_rope_head_dim=8, qk_nope_head_dim=8, v_head_dim=8)
    moe = moe_summary(summarize_config(read_config(tmp_path / "config.json")), _structure(model),
                      model.num_parameters(), None)
    assert moe.shared_experts == 1
    assert moe.expert_parameters == 4 * 3 * 32 * 8  # layer 1 only: layer 0 is dense; the shared expert is apart
    qwen = _saved("Qwen2MoeConfig", tmp_path / "qwen", num_experts=4, num_experts_per_tok=2,
                  moe_intermediate_size=8, shared_expert_intermediate_size=16)
    moe = moe_summary(summarize_config(read_config(tmp_path / "qwen" / "config.json")), _structure(qwen),
                      qwen.num_parameters(), None)
    assert moe.shared_experts == 1 and moe.expert_parameters == 2 * 4 * 3 * 32 * 8


def test_a_dense_model_has_no_moe(tmp_path):
    model = _saved("LlamaConfig", tmp_path)
    assert moe_summary(summarize_config(read_config(tmp_path / "config.json")), _structure(model),
                       model.num_parameters(), None) is None


@pytest.mark.parametrize(("example", "total", "active", "without_embedding"), [
    ("mixtral-8x7b", 46.7, 12.9, None),  # Mistral AI: 46.7B total, 12.9B active
    ("qwen3-30b-a3b", 30.5, 3.3, None),  # Qwen: 30.5B total, 3.3B activated
    ("gpt-oss-20b", 20.9, None, 3.6),  # OpenAI: 21B total, 3.6B active, the input embedding left out
])
def test_real_releases_match_their_published_figures(example, total, active, without_embedding):
    result = run_amx_preloaded("inspect", str(EXAMPLES / example), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    billions = pytest.approx  # published figures are rounded (or cut) to one decimal
    assert data["total_parameters"] / 1e9 == billions(total, abs=0.06)
    moe = data["moe"]
    if active is not None:
        assert moe["active_parameters"] / 1e9 == billions(active, abs=0.06)
    if without_embedding is not None:
        assert moe["active_parameters_without_input_embedding"] / 1e9 == billions(without_embedding, abs=0.06)
    human = run_amx_preloaded("inspect", str(EXAMPLES / example)).stdout
    assert f"of {moe['experts']} experts" in human and "without the input embedding" in human
