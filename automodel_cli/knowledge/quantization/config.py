"""`quantization_config` read as file content: strict types and bounds on every number amx computes with.

The method key is the one transformers' `AutoQuantizationConfig.from_dict` dispatches on: `load_in_4bit`
or `load_in_8bit` make it `bitsandbytes_4bit`/`bitsandbytes_8bit` whatever `quant_method` says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...base.errors import ConfigError
from ...base.json_input import json_type_name

MAX_BITS = 32
MAX_GROUP = 1 << 20
# Lists of module names a method leaves unquantized, under each method's own key.
_SKIP_KEYS = ("modules_to_not_convert", "ignore", "exclude_modules", "llm_int8_skip_modules")


@dataclass
class QuantizationSpec:
    method: str  # the key of transformers' quantizer mapping (or the unknown method as written)
    raw: dict  # the quantization_config object, as written
    bits: int | None = None
    group_size: int | None = None  # -1: one group per row
    block_size: tuple[int, int] | None = None  # FP8 weight_block_size
    skipped_modules: list[str] = field(default_factory=list)


def _where(key: str) -> str:
    return f"config.json: quantization_config.{key}"


def _integer(raw: dict, key: str, low: int, high: int) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{_where(key)} must be an integer from {low} to {high}, found {value!r}")
    return value


def _block(raw: dict) -> tuple[int, int] | None:
    value = raw.get("weight_block_size")
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_GROUP for v in value)):
        raise ConfigError(f"{_where('weight_block_size')} must be two integers from 1 to {MAX_GROUP}, found {value!r}")
    return value[0], value[1]


def _skipped(raw: dict) -> list[str]:
    names: list[str] = []
    for key in _SKIP_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{_where(key)} must be a list of module names, found {json_type_name(value)}")
        names += [name for name in value if name not in names]
    return names


def method_key(raw: dict) -> str | None:
    """The method as transformers dispatches on it; None when neither quant_method nor load_in_* says."""
    for bits in (4, 8):
        flag = raw.get(f"load_in_{bits}bit")
        if flag is not None and not isinstance(flag, bool):
            raise ConfigError(f"{_where(f'load_in_{bits}bit')} must be true or false, found {flag!r}")
    if raw.get("load_in_8bit") or raw.get("load_in_4bit"):
        return "bitsandbytes_4bit" if raw.get("load_in_4bit") else "bitsandbytes_8bit"
    method = raw.get("quant_method")
    if method is not None and not isinstance(method, str):
        raise ConfigError(f"{_where('quant_method')} must be a string, found {json_type_name(method)}")
    return method


def read_quantization(config: dict) -> QuantizationSpec | None:
    """The checkpoint's quantization, or None when config.json has no `quantization_config`."""
    raw = config.get("quantization_config")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(f"config.json: quantization_config must be an object, found {json_type_name(raw)}")
    method = method_key(raw)
    if method is None:
        raise ConfigError("config.json: quantization_config has no quant_method: transformers cannot tell "
                          "how the checkpoint was quantized")
    from .methods import method_for

    spec = QuantizationSpec(method, raw, _integer(raw, "bits", 1, MAX_BITS), _integer(raw, "group_size", -1, MAX_GROUP),
                            _block(raw), _skipped(raw))
    if spec.bits is None:
        spec.bits = method_for(method).bits(raw)
    return spec
