"""sentence-transformers models: the module chain modules.json declares (Transformer -> Pooling -> Dense ->
Normalize), each module's parameters and the dimension of the embeddings the model outputs.

modules.json lists `{"idx", "name", "path", "type"}`; each module lives in its folder (`""` is the
repository root) with its own config.json and weights. The Transformer module is a transformers model,
which the commands answer for. Module paths are checked not to escape the repository; the `type` is a
class path that sentence-transformers would import, and amx only reads its last name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import AmxError, ConfigError
from .json_input import json_type_name
from .reference import check_subfolder

if TYPE_CHECKING:
    from .meta_build import TensorSpec
    from .repository import Repository, RepositoryFiles

MODULES = "modules.json"
MAX_MODULES = 1_000  # real models have fewer than ten
# sentence-transformers' legacy pooling flags -> the mode names of its `pooling_mode`.
LEGACY_POOLING_FLAGS = {
    "pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max", "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean", "pooling_mode_lasttoken": "lasttoken",
}


@dataclass
class SentenceModule:
    name: str
    type: str  # the class's last name: Transformer, Pooling, Dense, Normalize, ...
    path: str  # folder relative to the repository ("" is the root)
    num_parameters: int | None = None  # None: not measured (no safetensors weights, or unreadable)
    full_type: str = ""  # as modules.json writes it
    description: str = ""  # "mean", "384 -> 256, Tanh"
    output_dimension: int | None = None  # what sentence-transformers' get_embedding_dimension returns
    note: str = ""


@dataclass
class SentenceChain:
    modules: list[SentenceModule]
    transformer_path: str | None  # the Transformer module's folder; None when the chain has none
    embedding_dimension: int | None = None
    notes: list[str] = field(default_factory=list)


def parse_modules(data: object, where: str) -> SentenceChain:
    """modules.json -> the chain; wrong types and escaping paths are one ConfigError line."""
    if not isinstance(data, list):
        raise ConfigError(f"{where}: modules.json must be a list of modules, found {json_type_name(data)}")
    if len(data) > MAX_MODULES:
        raise ConfigError(f"{where}: more than {MAX_MODULES:,} modules; amx refuses it")
    modules = []
    for position, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: module {position} must be an object, found {json_type_name(entry)}")
        name, path, kind = entry.get("name", str(position)), entry.get("path", ""), entry.get("type")
        if not isinstance(kind, str) or not kind:
            raise ConfigError(f"{where}: module {position}: type must be a class path, found {json_type_name(kind)}")
        if not isinstance(path, str):
            raise ConfigError(f"{where}: module {position}: path must be a string, found {json_type_name(path)}")
        if not isinstance(name, (str, int)) or isinstance(name, bool):
            raise ConfigError(f"{where}: module {position}: name must be a string, found {json_type_name(name)}")
        if path:
            try:
                path = check_subfolder(path, f"{where}: module {position}")
            except AmxError as error:
                raise ConfigError(error.message) from None
        modules.append(SentenceModule(str(name), kind.rpartition(".")[2], path, full_type=kind))
    transformer = next((m for m in modules if m.type == "Transformer"), None)
    return SentenceChain(modules, transformer.path if transformer else None)


def read_chain(files: RepositoryFiles) -> SentenceChain:
    """The chain modules.json declares (the module configs are read by `measure_chain`)."""
    from .config_reader import read_bounded
    from .json_input import parse_json

    where = files.where(MODULES)
    data = parse_json(read_bounded(files.locate(MODULES), "modules.json"), where, "modules.json", strict=False,
                      error=ConfigError)
    return parse_modules(data, where)


def _pooling_modes(config: dict[str, Any]) -> list[str]:
    mode = config.get("pooling_mode")
    if isinstance(mode, str):
        return [mode]
    if isinstance(mode, list) and all(isinstance(m, str) for m in mode):
        return mode
    return [name for key, name in LEGACY_POOLING_FLAGS.items() if config.get(key) is True] or ["mean"]


def _int(config: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _describe(module: SentenceModule, config: dict[str, Any], hidden_size: int | None) -> None:
    if module.type == "Pooling":
        modes = _pooling_modes(config)
        dimension = _int(config, "embedding_dimension", "word_embedding_dimension")
        module.description = "+".join(modes)
        module.output_dimension = len(modes) * dimension if dimension is not None else None
        module.num_parameters = 0
    elif module.type == "Dense":
        inputs, outputs = _int(config, "in_features"), _int(config, "out_features")
        activation = config.get("activation_function")
        activation = activation.rpartition(".")[2] if isinstance(activation, str) else "Identity"
        module.description = f"{inputs} → {outputs}, {activation}"
        module.output_dimension = outputs
    elif module.type == "Normalize":
        module.description = "L2"
        module.num_parameters = 0
    elif module.type == "Transformer":
        module.output_dimension = hidden_size


def measure_chain(repository: Repository, transformer_parameters: int | None, hidden_size: int | None,
                  token: str | None = None) -> tuple[SentenceChain, list[TensorSpec], int]:
    """Each module's configuration and parameters (from its safetensors header) and the embedding dimension,
    as sentence-transformers' get_sentence_embedding_dimension finds it (the last module that has one).

    Returns the chain, the tensors of the modules other than the Transformer (named `path/tensor`), and
    their bytes of tensor data.
    """
    from .config_reader import load_json_object
    from .meta_build import TensorSpec
    from .repository import RepositoryFiles
    from .safetensors_header import read_headers

    chain: SentenceChain = repository.modules
    root = RepositoryFiles.listed(repository.ref, token)
    tensors: list[TensorSpec] = []
    data_bytes = 0
    for module in chain.modules:
        if module.type == "Transformer":
            module.num_parameters = transformer_parameters if module.path == chain.transformer_path else None
            _describe(module, {}, hidden_size)
            continue
        folder = root.inside(module.path) if module.path else root
        config: dict[str, Any] = {}
        try:
            if folder.has("config.json"):
                config = load_json_object(folder.locate("config.json"), f"{module.type} config")
        except AmxError as error:
            module.note = f"config not read: {error.message}"
        _describe(module, config, hidden_size)
        if module.num_parameters is not None or not module.path:
            continue
        try:
            headers = read_headers(folder.ref, token=token)
        except AmxError as error:
            module.note = f"weights not read: {error.message}"
            continue
        if headers.format == "pickle":
            module.note = "pickle-based weights, never opened"
            continue
        module.num_parameters = sum(math.prod(t.shape) for t in headers.tensors)
        tensors.extend(TensorSpec(f"{module.path}/{t.name}", tuple(t.shape), t.dtype) for t in headers.tensors)
        data_bytes += sum(t.nbytes for t in headers.tensors)
    chain.embedding_dimension = next(
        (m.output_dimension for m in reversed(chain.modules) if m.output_dimension is not None), None)
    return chain, tensors, data_bytes
