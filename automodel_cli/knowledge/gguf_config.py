"""The transformers config a GGUF file stands for, built as the installed transformers builds it.

A GGUF repository ships no config.json: `from_pretrained(repo, gguf_file=NAME)` rebuilds the config
from the file's metadata, with llama.cpp's key names (`llama.block_count`) renamed through a mapping
in transformers (`GGUF_CONFIG_MAPPING` in `transformers/integrations/ggml.py`), plus a few
architecture renames and tensor-based settings in `load_gguf_checkpoint`. Newer transformers also
have per-architecture builders (`GGUF_CONFIG_ARCHS`) that take precedence.

The mappings are read from the installed transformers' source files with `ast.literal_eval` (a few
milliseconds, nothing imported), so `amx heads` on a GGUF file stays fast; only the per-architecture
builders, which are code, are imported, and only for their architectures. The renames below mirror
`load_gguf_checkpoint` of transformers 5.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base.errors import UnsupportedModelError
from ..files.config_reader import ModelConfig
from ..formats.gguf_header import GgufHeader, LongArray
from .head_index import HeadIndex, installed_transformers

GGUF_MIN_VERSION = "0.10.0"  # what transformers requires of the `gguf` package to load a GGUF file
# load_gguf_checkpoint: these architectures keep tie_word_embeddings although they store output.weight
_ALWAYS_TIED = ("falcon", "bloom")


@dataclass(frozen=True)
class GgufMapping:
    """What the installed transformers knows about GGUF metadata."""

    transformers_version: str
    config: dict[str, dict[str, str | None]]  # GGUF key prefix -> {rest of key: config attribute}
    defaults: dict[str, dict[str, Any]]  # architecture -> config defaults llama.cpp assumes
    builders: tuple[str, ...]  # architectures with their own config builder (GGUF_CONFIG_ARCHS)

    def supports(self, architecture: str) -> bool:
        return architecture in self.config or architecture in self.builders


@dataclass
class DerivedConfig:
    architecture: str  # general.architecture, as in the file
    model_type: str | None  # the transformers model type the config gets
    config: dict[str, Any]  # what AutoConfig.from_pretrained(..., gguf_file=...) gets as its config dict
    loadable: bool  # the installed transformers has a GGUF mapping for this architecture
    reason: str = ""  # why not loadable
    notes: list[str] = field(default_factory=list)


def _assignments(path: Path, names: set[str]) -> dict[str, ast.expr]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in names:
                found[node.targets[0].id] = node.value
    return found


@functools.lru_cache(maxsize=1)
def load_mapping() -> GgufMapping:
    """The installed transformers' GGUF mappings, read from its source without importing it."""
    version, package = installed_transformers()
    try:
        values = _assignments(package / "integrations" / "ggml.py",
                              {"GGUF_CONFIG_MAPPING", "GGUF_CONFIG_DEFAULTS_MAPPING"})
        config = ast.literal_eval(values["GGUF_CONFIG_MAPPING"])
        defaults = ast.literal_eval(values.get("GGUF_CONFIG_DEFAULTS_MAPPING", ast.Dict([], [])))
    except (OSError, KeyError, ValueError, SyntaxError):  # moved or no longer a literal: ask the module
        from transformers.integrations import ggml

        config = ggml.GGUF_CONFIG_MAPPING
        defaults = getattr(ggml, "GGUF_CONFIG_DEFAULTS_MAPPING", {})
    builders: tuple[str, ...] = ()
    builder_file = package / "integrations" / "gguf" / "gguf_config_mapping.py"
    if builder_file.is_file():
        archs = _assignments(builder_file, {"GGUF_CONFIG_ARCHS"}).get("GGUF_CONFIG_ARCHS")
        if isinstance(archs, ast.Dict):
            builders = tuple(k.value for k in archs.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
    return GgufMapping(version, config, defaults, builders)


def gguf_package_problem() -> str | None:
    """Why transformers could not load a GGUF file with the installed packages, or None."""
    if importlib.util.find_spec("gguf") is None:
        return f"the gguf package is not installed (transformers needs gguf>={GGUF_MIN_VERSION} to load GGUF files)"
    from importlib.metadata import PackageNotFoundError, version

    from packaging.version import InvalidVersion, Version

    try:
        installed = version("gguf")
        if Version(installed) < Version(GGUF_MIN_VERSION):
            return f"gguf {installed} is installed; transformers needs gguf>={GGUF_MIN_VERSION} to load GGUF files"
    except (PackageNotFoundError, InvalidVersion):
        return None
    return None


def _field_value(value: Any) -> Any:
    """A metadata value as transformers' legacy reader hands it on: one-element arrays become scalars."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    if isinstance(value, LongArray):
        return None
    return value


def _updated_architecture(architecture: str, name: Any, config: dict[str, Any]) -> str:
    """load_gguf_checkpoint's renames of llama.cpp architectures to transformers model types."""
    updated = architecture
    if "llama" in architecture and name == "mistral":  # transformers tests `"mistral" in [general.name]`
        updated = "mistral"
    elif "t5" in architecture:
        config["is_gated_act"] = True
        umt5 = isinstance(name, str) and "umt5" in name.lower()
        updated = "umt5" if umt5 else "t5"
        if "t5encoder" in architecture:
            config["architectures"] = ["UMT5EncoderModel" if umt5 else "T5EncoderModel"]
    for marker, model_type in (("qwen2moe", "qwen2_moe"), ("gpt_oss", "gpt_oss"), ("gpt-oss", "gpt_oss"),
                               ("qwen3moe", "qwen3_moe"), ("minimax-m2", "minimax_m2")):
        if marker in architecture:
            return model_type
    return updated


def _legacy_config(header: GgufHeader, mapping: GgufMapping, architecture: str) -> tuple[dict[str, Any], str]:
    metadata = header.metadata
    names = [t.name for t in header.tensors]
    config: dict[str, Any] = {}
    updated = _updated_architecture(architecture, metadata.get("general.name"), config)
    if "stablelm" in architecture:
        config["use_qkv_bias"] = any(bias in name for name in names
                                     for bias in ("attn_q.bias", "attn_k.bias", "attn_v.bias"))
        config["use_parallel_residual"] = not any("ffn_norm" in name for name in names)
    config["tie_word_embeddings"] = "output.weight" not in names or architecture in _ALWAYS_TIED
    for key, value in mapping.defaults.get(updated, mapping.defaults.get(architecture) or {}).items():
        config.setdefault(key, value)
    for key, raw in metadata.items():
        prefix, _, rest = key.replace(architecture, updated).partition(".")
        value = _field_value(raw)
        if isinstance(value, str) and architecture in value:
            value = value.replace(architecture, updated)
        renamed = mapping.config.get(prefix, {}).get(rest, -1) if rest else -1
        if renamed not in (-1, None):
            config[renamed] = value
    model_type = config.get("model_type")
    if model_type == "gemma3":
        config["model_type"] = "gemma3_text"
    elif model_type == "gemma4":
        config["model_type"] = "gemma4_text"
        config["eos_token_id"] = [1, 106, 50]
    elif model_type == "minimax_m2" and isinstance(config.get("scoring_func"), int):
        config["scoring_func"] = {0: "none", 1: "softmax", 2: "sigmoid"}.get(config["scoring_func"], "softmax")
    elif model_type == "lfm2" and isinstance(config.get("num_key_value_heads"), list):
        per_layer = config["num_key_value_heads"]
        config["num_key_value_heads"] = max(per_layer)
        config["block_auto_adjust_ff_dim"] = False
        config["full_attn_idxs"] = [i for i, heads in enumerate(per_layer) if heads > 0]
    if "vocab_size" not in config and "tokenizer.ggml.tokens" in metadata:
        config["vocab_size"] = len(metadata["tokenizer.ggml.tokens"])
    return config, updated


def _builder_metadata(header: GgufHeader) -> dict[str, Any]:
    """Metadata as transformers' own GGUF reader returns it: string arrays become their length."""
    def convert(value: Any) -> Any:
        if isinstance(value, LongArray):
            return value.length
        if isinstance(value, list) and value and isinstance(value[0], str):
            return len(value)
        return value

    return {key: convert(value) for key, value in header.metadata.items()}


def derive_config(header: GgufHeader, where: str) -> DerivedConfig:
    """The config dict `AutoConfig.from_pretrained(..., gguf_file=...)` builds from this header."""
    architecture = header.architecture
    if architecture is None:
        return DerivedConfig("?", None, {}, False, f"{where} has no general.architecture in its metadata")
    mapping = load_mapping()
    if architecture in mapping.builders:
        from transformers.integrations.gguf.gguf_config_mapping import get_gguf_config

        try:
            config = get_gguf_config(_builder_metadata(header), tuple(t.name for t in header.tensors))
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            return DerivedConfig(architecture, None, {}, False,
                                 f"transformers cannot build a config from {where}: {type(error).__name__} {error}")
        return DerivedConfig(architecture, config.get("model_type"), config, True)
    config, updated = _legacy_config(header, mapping, architecture)
    model_type = config.get("model_type") if isinstance(config.get("model_type"), str) else None
    if not (mapping.supports(architecture) or mapping.supports(updated)):
        return DerivedConfig(architecture, None, config, False,
                             f"transformers {mapping.transformers_version} cannot load GGUF architecture "
                             f"{architecture!r}")
    return DerivedConfig(architecture, model_type, config, True)


# Auto classes tried, in order, for the native head of a GGUF file: llama.cpp runs them as language models.
GGUF_NATIVE_HEADS = ("AutoModelForCausalLM", "AutoModelForSeq2SeqLM", "AutoModel")


def native_architecture(model_type: str | None, index: HeadIndex) -> tuple[str, str] | None:
    """(Auto class, model class) a GGUF file of `model_type` is for: its causal LM when there is one."""
    config_class = index.config_class_for(model_type) if model_type else None
    heads = index.heads_for(config_class) if config_class else {}
    for auto_class in GGUF_NATIVE_HEADS:
        if heads.get(auto_class):
            return auto_class, heads[auto_class][0]
    return None


def gguf_model_config(derived: DerivedConfig, where: str, index: HeadIndex) -> ModelConfig:
    """The derived config as amx's ModelConfig, with the native class as its `architectures`.

    GGUF metadata names no model class; the one llama.cpp runs (a causal LM) is taken, so heads get a
    native head. Raises UnsupportedModelError when transformers cannot load the architecture.
    """
    if not derived.loadable:
        raise UnsupportedModelError(derived.reason, hint="`amx inspect` still lists the file's tensors")
    if derived.model_type is None or index.config_class_for(derived.model_type) is None:
        raise UnsupportedModelError(
            f"transformers {index.transformers_version} has no model type {derived.model_type!r} "
            f"for GGUF architecture {derived.architecture!r}")
    raw = dict(derived.config)
    if not raw.get("architectures"):
        native = native_architecture(derived.model_type, index)
        if native is not None:
            raw["architectures"] = [native[1]]
    return ModelConfig(path=Path(where), raw=raw, model_type=derived.model_type,
                       architectures=list(raw.get("architectures") or []))
