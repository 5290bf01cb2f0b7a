"""The KV cache amx predicts against the cache a real forward pass returns, for every attention kind."""

from __future__ import annotations

import pytest
from support.real_cache import CACHE_KINDS, cache_bytes, kind_config

from automodel_cli.files.config_reader import read_config
from automodel_cli.knowledge.kv_cache import UNREADABLE_CONFIG, cache_layout, kv_cache


def _layout(config, tmp_path):
    config.save_pretrained(tmp_path)
    return cache_layout(read_config(tmp_path / "config.json"))


@pytest.mark.parametrize("kind", sorted(CACHE_KINDS))
def test_bytes_match_the_cache_transformers_returns(kind, tmp_path):
    config = kind_config(kind)
    layout = _layout(config, tmp_path)
    for tokens, batch in ((64, 1), (64, 2), (8, 1)):
        predicted = kv_cache(layout, "F32", 128, tokens, batch).bytes_for_tokens
        assert predicted == pytest.approx(cache_bytes(config, tokens, batch), rel=0.01), (tokens, batch)


def test_groups_say_what_each_layer_keeps(tmp_path):
    hybrid = kv_cache(_layout(kind_config("hybrid"), tmp_path / "gemma2"), "BF16", 128)
    assert hybrid.layers == {"sliding": 2, "full": 2} and hybrid.window == 16
    assert hybrid.bytes_per_token == 2 * 2 * 2 * 8 * 2  # only the full layers grow past the window
    latent = kv_cache(_layout(kind_config("latent"), tmp_path / "v3"), "BF16", 128)
    assert latent.detail == "latent 16 + rope key 8" and latent.bytes_per_token == 2 * 24 * 2
    state = kv_cache(_layout(kind_config("state"), tmp_path / "jamba"), "F32", 128, tokens=1)
    assert state.layers == {"state": 2, "full": 2}
    assert state.bytes_at_context - state.bytes_for_tokens == 127 * state.bytes_per_token  # the state is fixed
    seq2seq = kv_cache(_layout(kind_config("encoder-decoder-heads"), tmp_path / "bart"), "F32", 128)
    assert seq2seq.layers == {"full": 3, "cross": 3}  # the decoder's layers, with its own 2 heads of 16
    assert seq2seq.bytes_per_token == 2 * 3 * (2 * 2 * 16) * 4


def test_a_layer_amx_cannot_size_gives_no_figure(tmp_path):
    import transformers

    config = transformers.KimiLinearConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                           num_key_value_heads=4, intermediate_size=37)
    layout = _layout(config, tmp_path)
    assert layout.unknown == ["linear_attention"]
    assert kv_cache(layout, "F32", 128, 64) is None
    zamba2 = transformers.Zamba2Config(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                       layer_types=["linear_attention", "hybrid"])  # Mamba-2 fields of its own
    assert _layout(zamba2, tmp_path / "zamba2").unknown == ["linear_attention", "hybrid"]


def test_a_config_transformers_does_not_know_has_no_layout(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "no-such-model", "num_hidden_layers": 2}')
    layout = cache_layout(read_config(tmp_path / "config.json"))
    assert layout.unknown == [UNREADABLE_CONFIG] and kv_cache(layout, "F32", 128) is None
