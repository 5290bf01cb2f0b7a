"""The key sizes of a model (layers, hidden size, heads, vocabulary, context...) read the same way across
families, straight from config.json: nothing is built.

Each family names its fields differently (gpt2's `n_embd`, t5's `d_model`, distilbert's `dim`). The
config class's own `attribute_map` translates the standard names, exactly as attribute access on a
transformers config does; a field absent from config.json takes the config class's default. Multimodal
configs keep the language model's sizes in `text_config`, which is read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..compat.config_defaults import config_class_defaults
from ..files.config_reader import ModelConfig

# Standard name -> other spellings seen in configs whose class has no attribute_map for them
# (older or repository-code configs). The attribute_map, when present, is consulted first.
_ALIASES = {
    "num_hidden_layers": ("n_layer", "n_layers", "num_layers"),
    "hidden_size": ("d_model", "n_embd", "dim"),
    "num_attention_heads": ("n_head", "n_heads", "num_heads"),
    "num_key_value_heads": ("num_kv_heads", "n_head_kv", "multi_query_group_num"),
    "vocab_size": (),
    "max_position_embeddings": ("n_positions", "max_seq_len", "seq_length", "max_sequence_length", "n_ctx"),
    "intermediate_size": ("d_ff", "ffn_hidden_size", "ffn_dim", "encoder_ffn_dim", "hidden_dim", "n_inner"),
    "head_dim": ("d_kv", "kv_channels"),
    "num_local_experts": ("num_experts", "n_routed_experts", "moe_num_experts", "num_routed_experts"),
    "num_experts_per_tok": ("num_experts_per_token", "moe_topk", "moe_k"),
    "n_shared_experts": ("num_shared_experts", "moe_num_shared_experts"),
}
_CONFIG_DTYPES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64"}


@dataclass
class ConfigSummary:
    model_type: str | None
    architecture: str | None
    layers: int | None
    hidden_size: int | None
    attention_heads: int | None
    key_value_heads: int | None  # fewer than attention_heads: grouped-query attention
    head_dim: int | None
    vocab_size: int | None
    context_length: int | None
    intermediate_size: int | None
    dtype: str | None  # the config's torch_dtype/dtype, safetensors spelling (BF16, F32...)
    experts: int | None = None  # routed experts of a mixture-of-experts layer
    experts_per_token: int | None = None
    shared_experts: int | None = None  # experts every token goes through, when the config counts them


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


class _FieldReader:
    """Looks a standard field up in one raw config mapping, through its class's attribute_map and defaults."""

    def __init__(self, raw: dict, config_class: type | None):
        self.raw = raw
        self.attribute_map = dict(getattr(config_class, "attribute_map", None) or {})
        self.defaults = config_class_defaults(config_class) if config_class is not None else {}

    def names(self, field: str) -> list[str]:
        mapped = self.attribute_map.get(field)
        return ([mapped] if mapped else []) + [field, *_ALIASES.get(field, ())]

    def from_raw(self, field: str) -> int | None:
        for name in self.names(field):
            if (value := _positive_int(self.raw.get(name))) is not None:
                return value
        return None

    def from_defaults(self, field: str) -> int | None:
        return _positive_int(self.defaults.get(self.attribute_map.get(field, field)))


def _config_class(model_type: str | None) -> type | None:
    if not model_type:
        return None
    from transformers import CONFIG_MAPPING

    return CONFIG_MAPPING[model_type] if model_type in CONFIG_MAPPING else None


def config_defaults_for(model_type: str | None) -> dict[str, Any]:
    """What a config.json of `model_type` gets for a field it omits; empty when the model_type is unknown."""
    config_class = _config_class(model_type)
    return config_class_defaults(config_class) if config_class is not None else {}


def _readers(config: ModelConfig) -> list[_FieldReader]:
    config_class = _config_class(config.model_type)
    readers = [_FieldReader(config.raw, config_class)]
    text = config.raw.get("text_config")
    if isinstance(text, dict):
        sub_classes = getattr(config_class, "sub_configs", None) or {}
        readers.append(_FieldReader(text, sub_classes.get("text_config") or _config_class(text.get("model_type"))))
    return readers


def _lookup(readers: list[_FieldReader], field: str) -> int | None:
    for find in ("from_raw", "from_defaults"):
        for reader in readers:
            if (value := getattr(reader, find)(field)) is not None:
                return value
    return None


def _config_dtype(raw: dict) -> str | None:
    for source in (raw, raw.get("text_config") if isinstance(raw.get("text_config"), dict) else {}):
        for key in ("dtype", "torch_dtype"):
            value = source.get(key)
            if isinstance(value, str) and value.removeprefix("torch.") in _CONFIG_DTYPES:
                return _CONFIG_DTYPES[value.removeprefix("torch.")]
    return None


def summarize_config(config: ModelConfig) -> ConfigSummary:
    """Normalised sizes of a config; a field no spelling of which is present (and with no default) is None."""
    readers = _readers(config)
    layers = _lookup(readers, "num_hidden_layers")
    hidden = _lookup(readers, "hidden_size")
    heads = _lookup(readers, "num_attention_heads")
    kv_heads = _lookup(readers, "num_key_value_heads")
    if kv_heads is None and heads is not None:
        kv_heads = 1 if config.raw.get("multi_query") is True else heads
    head_dim = _lookup(readers, "head_dim")
    latent_parts = [_lookup(readers, part) for part in ("qk_nope_head_dim", "qk_rope_head_dim")]
    if None not in latent_parts:  # multi-head latent attention (DeepSeek-V2/V3): a query/key head is both parts
        head_dim = sum(latent_parts)
    if head_dim is None and hidden and heads and hidden % heads == 0:
        head_dim = hidden // heads
    return ConfigSummary(
        model_type=config.model_type,
        architecture=config.native_architecture,
        layers=layers,
        hidden_size=hidden,
        attention_heads=heads,
        key_value_heads=kv_heads,
        head_dim=head_dim,
        vocab_size=_lookup(readers, "vocab_size"),
        context_length=_lookup(readers, "max_position_embeddings"),
        intermediate_size=_lookup(readers, "intermediate_size"),
        dtype=_config_dtype(config.raw),
        experts=_lookup(readers, "num_local_experts"),
        experts_per_token=_lookup(readers, "num_experts_per_tok"),
        shared_experts=_lookup(readers, "n_shared_experts"),
    )

