"""A transformers config object built from a config.json mapping, as `from_pretrained` builds it.

Newer releases save non-finite floats as `{"__float__": "Infinity"}` (mamba2's `time_step_limit`) and
decode them when reading the file, not in `from_dict`; older ones wrote plain `Infinity`. The tags are
decoded here when the installed release has the decoder.
"""

from __future__ import annotations

from typing import Any


def config_object(model_type: str | None, raw: dict[str, Any]):
    """The config object, or None: a model_type transformers does not know, or a config it refuses."""
    from transformers import CONFIG_MAPPING

    if not model_type or model_type not in CONFIG_MAPPING:
        return None
    config_class = CONFIG_MAPPING[model_type]
    decode = getattr(config_class, "_decode_special_floats", None)
    try:
        return config_class.from_dict(decode(raw) if decode is not None else dict(raw))
    except Exception:  # noqa: BLE001 - a config transformers refuses is one amx cannot read
        return None
