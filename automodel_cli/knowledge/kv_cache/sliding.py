"""Sliding-window and chunked attention: transformers' DynamicSlidingWindowLayer keeps the last window - 1 tokens."""

from __future__ import annotations

from .attention import per_token
from .group import CacheGroup

LAYER_TYPES = ("sliding_attention", "chunked_attention")


def group(config, layers: int, model_type: str | None):
    window = getattr(config, "sliding_window", None) or getattr(config, "attention_chunk_size", None)
    elements = per_token(config, model_type)
    if not isinstance(window, int) or window <= 0 or elements is None:
        return None
    return CacheGroup("sliding", layers, per_token=elements[0], window=window, detail=elements[1])
