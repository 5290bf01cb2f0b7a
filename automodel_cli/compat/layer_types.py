"""The kind of each decoder layer's cache, named as the installed transformers names it.

Newer releases give every config a `layer_types` list in one vocabulary (`full_attention`,
`sliding_attention`, `linear_attention`...) and remap the older spellings (`mamba`, `attention`) when a
config is built; older ones leave the legacy names, or only `layers_block_type`, or nothing, in which
case `DynamicCache` derives the kind from `sliding_window` / `attention_chunk_size`. This reads whichever
the installed release has and returns the new vocabulary.
"""

from __future__ import annotations

_LEGACY_NAMES = {"mamba": "linear_attention", "attention": "full_attention"}
_NO_CACHE = ("moe", "mlp")  # layer_types entries of layers without attention


def _legacy_names() -> dict[str, str]:
    try:
        from transformers.configuration_utils import _LEGACY_LAYER_TYPE_REMAP
    except ImportError:
        return _LEGACY_NAMES
    return {**_LEGACY_NAMES, **_LEGACY_LAYER_TYPE_REMAP}


def _declared(config) -> list | None:
    for name in ("layer_types", "layers_block_type"):
        try:
            declared = getattr(config, name, None)
        except Exception:  # noqa: BLE001 - a property of a config that does not hold together
            declared = None
        if isinstance(declared, (list, tuple)) and all(isinstance(kind, str) for kind in declared):
            return list(declared)
    return None


def decoder_layer_types(config, layers: int) -> list[str]:
    """One entry per decoder layer: its cache kind, "dummy" for a layer that caches nothing."""
    declared = _declared(config)
    if declared is None:
        if getattr(config, "sliding_window", None) is not None:
            declared = ["sliding_attention"] * layers
        elif getattr(config, "attention_chunk_size", None) is not None:
            declared = ["chunked_attention"] * layers
        else:
            declared = ["full_attention"] * layers
    names = _legacy_names()
    kinds = [names.get(kind, kind) for kind in declared]
    sharing = getattr(config, "kv_sharing_modes", None)
    if isinstance(sharing, (list, tuple)):
        kinds = ["dummy" if mode == "reuse" else kind for kind, mode in zip(kinds, sharing)]
    return ["dummy" if kind in _NO_CACHE else kind for kind in kinds]
