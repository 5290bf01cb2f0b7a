"""Full attention: every token's keys and values stay in the cache."""

from __future__ import annotations

from .attention import per_token
from .group import CacheGroup

LAYER_TYPES = ("full_attention",)


def group(config, layers: int, model_type: str | None):
    elements = per_token(config, model_type)
    return CacheGroup("full", layers, per_token=elements[0], detail=elements[1]) if elements else None
