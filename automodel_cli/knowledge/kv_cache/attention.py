"""What one token adds to one attention layer's cache: keys and values, or an MLA latent and rope key."""

from __future__ import annotations

from ...compat.latent_cache import caches_latent
from .group import positive


def _latent(config, model_type: str | None) -> tuple[int, str] | None:
    rank, rope = positive(config, "kv_lora_rank"), positive(config, "qk_rope_head_dim")
    if rank is None or rope is None:
        return None
    if caches_latent(model_type) is False:  # an older release: the expanded keys and values
        heads, nope, value = (positive(config, "num_attention_heads"), positive(config, "qk_nope_head_dim"),
                              positive(config, "v_head_dim"))
        if heads is None or nope is None or value is None:
            return None
        return heads * (nope + rope + value), f"{heads} heads, keys {nope + rope} + values {value}"
    return rank + rope, f"latent {rank} + rope key {rope}"


def per_token(config, model_type: str | None) -> tuple[int, str] | None:
    """Elements per token and per layer, and what they are ("" for plain keys and values); None: unknown.

    An encoder-decoder's decoder has its own head count (bart's `decoder_attention_heads`).
    """
    decoder = getattr(config, "is_encoder_decoder", False) is True
    latent = _latent(config, model_type)
    if latent is not None:
        return latent
    head_names = ("decoder_attention_heads", "num_attention_heads") if decoder else ("num_attention_heads",)
    heads = positive(config, *head_names)
    kv_heads = positive(config, "num_key_value_heads") if not decoder else None
    if kv_heads is None:
        kv_heads = 1 if getattr(config, "multi_query", False) is True else heads
    head_dim = positive(config, "head_dim", "d_kv")
    hidden = positive(config, "hidden_size", "d_model")
    if head_dim is None and heads and hidden and hidden % heads == 0:
        head_dim = hidden // heads
    if kv_heads is None or head_dim is None:
        return None
    return 2 * kv_heads * head_dim, ""
