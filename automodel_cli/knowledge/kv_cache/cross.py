"""An encoder-decoder's cross-attention: each decoder layer caches the keys and values of every encoder token."""

from __future__ import annotations

from .attention import per_token
from .group import CacheGroup


def group(config, layers: int, model_type: str | None):
    elements = per_token(config, model_type)
    return CacheGroup("cross", layers, per_token=elements[0]) if elements else None
