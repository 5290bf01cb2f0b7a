"""`amx inspect --tokens N --batch B`: the KV-cache line and the `kv_cache` JSON, through the real entry point,
against the cache a forward pass of the same tiny model returns."""

from __future__ import annotations

import json

import pytest
from support.preloaded import run_amx_preloaded
from support.real_cache import cache_bytes, kind_config


def _saved(kind: str, tmp_path):
    import torch
    import transformers

    config = kind_config(kind)
    config.dtype = torch.float32
    model_class = transformers.AutoModelForSeq2SeqLM if config.is_encoder_decoder else transformers.AutoModelForCausalLM
    torch.manual_seed(0)
    model_class.from_config(config).save_pretrained(tmp_path)
    return config


def test_sliding_and_full_layers_in_human_and_json(tmp_path):
    config = _saved("hybrid", tmp_path)
    result = run_amx_preloaded("inspect", str(tmp_path), "--tokens", "64", "--batch", "2")
    assert result.returncode == 0, result.stderr
    assert "KV cache (F32, 2 sliding-window + 2 full layers, window 16): 256 B per token" in result.stdout
    assert "for 2 sequences of 64 tokens" in result.stdout
    kv = json.loads(run_amx_preloaded("inspect", str(tmp_path), "--tokens", "64", "--batch", "2", "--json").stdout)["kv_cache"]
    assert (kv["tokens"], kv["batch"], kv["layers"], kv["window"]) == (64, 2, {"sliding": 2, "full": 2}, 16)
    assert kv["bytes_for_tokens"] == pytest.approx(cache_bytes(config, 64, 2), rel=0.01)
    assert kv["bytes_at_context"] == (2 * 15 + 2 * 128) * 2 * 2 * 8 * 4  # one sequence: 15 tokens kept per window


def test_encoder_decoder_caches_self_and_cross_attention(tmp_path):
    config = _saved("encoder-decoder", tmp_path)
    result = run_amx_preloaded("inspect", str(tmp_path), "--tokens", "64", "--json")
    kv = json.loads(result.stdout)["kv_cache"]
    assert kv["layers"] == {"full": 2, "cross": 2} and kv["batch"] == 1
    assert kv["bytes_for_tokens"] == pytest.approx(cache_bytes(config, 64), rel=0.01)
    assert "2 full layers + cross-attention" in run_amx_preloaded("inspect", str(tmp_path)).stdout


def test_without_tokens_the_fields_are_null_and_bad_counts_are_refused(tmp_path):
    _saved("latent", tmp_path)
    kv = json.loads(run_amx_preloaded("inspect", str(tmp_path), "--json").stdout)["kv_cache"]
    assert (kv["tokens"], kv["bytes_for_tokens"], kv["detail"]) == (None, None, "latent 16 + rope key 8")
    assert "latent 16 + rope key 8 per token" in run_amx_preloaded("inspect", str(tmp_path)).stdout
    refused = run_amx_preloaded("inspect", str(tmp_path), "--tokens", "0")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
