"""The KV-cache line of `amx inspect`: what kind of cache transformers holds, and its size."""

from __future__ import annotations

from rich.text import Text

from ..base.units import human_bytes
from ..knowledge.kv_cache import KvCache

_KIND_NAMES = {"sliding": "sliding-window", "full": "full", "hybrid": "state-space + attention",
               "state": "state-space"}


def cache_kind(kv: KvCache) -> str:
    """"24 sliding-window + 12 full layers, window 4,096", with what a token is when not keys and values."""
    parts = [f"{kv.layers[kind]} {name}" for kind, name in _KIND_NAMES.items() if kv.layers.get(kind)]
    text = " + ".join(parts) + " layers"
    if kv.layers.get("cross"):
        text += " + cross-attention"
    if kv.window:
        text += f", window {kv.window:,}"
    if kv.detail:
        text += f"; {kv.detail} per token"
    return text


def _sequences(batch: int, tokens: int) -> str:
    return f"{'one sequence' if batch == 1 else f'{batch} sequences'} of {tokens:,} tokens"


def kv_cache_line(kv: KvCache) -> Text:
    line = Text("KV cache ", style="bold")
    sizes = [f"{human_bytes(kv.bytes_per_token)} per token"] if kv.bytes_per_token else []
    if kv.bytes_at_context:
        sizes.append(f"{human_bytes(kv.bytes_at_context)} for {_sequences(1, kv.context_length)}")
    if kv.bytes_for_tokens is not None:
        sizes.append(f"{human_bytes(kv.bytes_for_tokens)} for {_sequences(kv.batch, kv.tokens)}")
    line.append(f"({kv.dtype}, {cache_kind(kv)}): " + ", ".join(sizes))
    return line
