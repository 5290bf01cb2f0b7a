"""A multimodal model's towers against the parameters of the real model's own sub-modules."""

from __future__ import annotations

import json

from support import EXAMPLES
from support.preloaded import run_amx_preloaded


def test_towers_are_the_real_sub_modules(tmp_path):
    import torch
    import transformers

    text = transformers.LlamaConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                    num_key_value_heads=2, intermediate_size=37)
    vision = transformers.CLIPVisionConfig(hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                                           num_attention_heads=2, image_size=32, patch_size=8)
    torch.manual_seed(0)
    model = transformers.LlavaForConditionalGeneration(transformers.LlavaConfig(vision_config=vision,
                                                                                text_config=text))
    model.save_pretrained(tmp_path)
    data = json.loads(run_amx_preloaded("inspect", str(tmp_path), "--json").stdout)

    def count(module) -> int:
        return sum(p.numel() for p in module.parameters())

    assert data["towers"] == {
        "vision_tower": count(model.model.vision_tower),
        "multi_modal_projector": count(model.model.multi_modal_projector),
        "language_model": count(model.model.language_model) + count(model.lm_head),
    }
    assert sum(data["towers"].values()) == data["total_parameters"] == model.num_parameters()
    assert "towers           vision_tower" in run_amx_preloaded("inspect", str(tmp_path)).stdout


def test_a_single_tower_model_lists_none():
    assert json.loads(run_amx_preloaded("inspect", str(EXAMPLES / "gpt2"), "--json").stdout)["towers"] is None
