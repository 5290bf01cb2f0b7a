"""What transformers caches for multi-head latent attention (DeepSeek-V2/V3, Kimi, MiniCPM3...).

Newer releases cache the compressed latent (`kv_lora_rank`) and the shared rope key, one "head" each,
and expand them to keys and values after reading the cache (the attention class's `expand_kv`);
older ones cached the expanded keys (every head, `qk_nope_head_dim + qk_rope_head_dim`) and values
(`v_head_dim`). The installed model module is read as text, never imported, to tell which.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def caches_latent(model_type: str | None) -> bool | None:
    """True: the latent is cached; False: expanded keys and values; None: no such module installed."""
    if not model_type or not model_type.replace("_", "").isalnum():
        return None
    name = f"transformers.models.{model_type}.modeling_{model_type}"
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    try:
        return "def expand_kv(" in Path(spec.origin).read_text(encoding="utf-8")
    except OSError:
        return None
