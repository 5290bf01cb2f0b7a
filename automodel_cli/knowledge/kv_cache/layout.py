"""A decoder's layers grouped by how transformers caches them, read from the config object it builds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ...compat.config_objects import config_object
from ...compat.layer_types import decoder_layer_types
from ...files.config_reader import ModelConfig
from . import cross, full, hybrid, sliding, state
from .group import CacheGroup, positive

# Each kind of layer cache; a new kind is a new module here, with LAYER_TYPES and group().
KINDS = (full, sliding, state, hybrid)
NOT_CACHED = ("dummy",)
UNREADABLE_CONFIG = "config"  # the layout's only unknown when transformers does not build the config


@dataclass
class CacheLayout:
    groups: list[CacheGroup] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # layer types whose cache amx cannot size

    @property
    def complete(self) -> bool:
        return bool(self.groups) and not self.unknown


def _decoder(built):
    """The config of the text decoder. A config without sub-configs is its own: transformers 5.24 answers
    bart's `get_text_config(decoder=True)` with a new config holding the defaults."""
    if not getattr(built, "sub_configs", None):
        return built
    try:
        return built.get_text_config(decoder=True)
    except Exception:  # noqa: BLE001 - an ambiguous composite config
        return None


def cache_layout(config: ModelConfig) -> CacheLayout:
    """How the installed transformers caches this model's decoder (an empty layout when it cannot tell)."""
    built = config_object(config.model_type, config.raw)
    decoder = _decoder(built) if built is not None else None
    layers = None if decoder is None else positive(decoder, "num_decoder_layers", "decoder_layers", "num_hidden_layers")
    if layers is None:
        return CacheLayout(unknown=[UNREADABLE_CONFIG])
    layout = CacheLayout()
    counts = Counter(decoder_layer_types(decoder, layers)[:layers])
    for layer_type, count in counts.items():
        kind = next((kind for kind in KINDS if layer_type in kind.LAYER_TYPES), None)
        group = kind.group(decoder, count, config.model_type) if kind is not None else None
        if group is not None:
            layout.groups.append(group)
        elif layer_type not in NOT_CACHED:
            layout.unknown.append(layer_type)
    if getattr(built, "is_encoder_decoder", False):
        group = cross.group(decoder, layers, config.model_type)
        layout.groups.append(group) if group is not None else layout.unknown.append("cross_attention")
    return layout
