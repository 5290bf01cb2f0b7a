"""Layers that run a state-space mixer and full attention side by side (falcon_h1, zamba): both caches."""

from __future__ import annotations

from .attention import per_token
from .group import CacheGroup
from .state import state_elements

LAYER_TYPES = ("hybrid",)


def group(config, layers: int, model_type: str | None):
    state, elements = state_elements(config), per_token(config, model_type)
    if state is None or elements is None:
        return None
    return CacheGroup("hybrid", layers, per_token=elements[0], per_sequence=state[0], detail=state[1])
