"""A cache layout in bytes, for a dtype, a number of tokens and a batch size."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...formats.tensors import DTYPE_BITS
from .layout import CacheLayout


@dataclass
class KvCache:
    dtype: str
    bytes_per_token: int  # what one more token adds once every sliding window is full
    context_length: int | None
    bytes_at_context: int | None  # one sequence filling the whole context
    tokens: int | None = None  # asked for (`amx inspect --tokens N`)
    batch: int = 1
    bytes_for_tokens: int | None = None  # `batch` sequences of `tokens` tokens
    layers: dict[str, int] = field(default_factory=dict)  # kind -> layers: full, sliding, state, hybrid, cross
    window: int | None = None  # the sliding window, when some layers slide
    detail: str = ""  # what one attention layer caches per token when it is not keys and values


def layout_bytes(layout: CacheLayout, dtype: str, tokens: int, batch: int = 1) -> int:
    """Bytes of `batch` sequences of `tokens` tokens (an encoder-decoder: `tokens` encoder and decoder tokens)."""
    elements = sum(g.layers * (g.per_token * g.kept(tokens) + g.per_sequence) for g in layout.groups)
    return batch * elements * DTYPE_BITS.get(dtype, 32) // 8


def kv_cache(layout: CacheLayout, dtype: str, context_length: int | None, tokens: int | None = None,
             batch: int = 1) -> KvCache | None:
    """The cache of a complete layout, else None: amx does not guess a layer it cannot size."""
    if not layout.complete:
        return None
    growing = sum(g.layers * g.per_token for g in layout.groups if not g.window)
    windows = {g.window for g in layout.groups if g.window}
    layers: dict[str, int] = {}
    for g in layout.groups:
        layers[g.kind] = layers.get(g.kind, 0) + g.layers
    return KvCache(
        dtype=dtype,
        bytes_per_token=growing * DTYPE_BITS.get(dtype, 32) // 8,
        context_length=context_length,
        bytes_at_context=layout_bytes(layout, dtype, context_length) if context_length else None,
        tokens=tokens,
        batch=batch,
        bytes_for_tokens=layout_bytes(layout, dtype, tokens, batch) if tokens else None,
        layers=layers,
        window=min(windows) if windows else None,
        detail=next((g.detail for g in layout.groups if g.per_token and g.detail and g.kind != "hybrid"), ""),
    )
