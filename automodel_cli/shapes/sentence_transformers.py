"""sentence-transformers models: the module chain modules.json declares (Transformer -> Pooling -> Dense ->
Normalize), each module's parameters and the dimension of the embeddings the model outputs.

modules.json lists `{"idx", "name", "path", "type"}`; each module lives in its folder (`""` is the
repository root) with its own config.json and weights. The Transformer module is a transformers model,
which the commands answer for. Module paths are checked not to escape the repository; the `type` is a
class path that sentence-transformers would import, and amx only reads its last name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..base.errors import AmxError, ConfigError
from ..base.json_input import json_type_name, parse_json
from ..files.config_reader import read_bounded
from ..files.reference import check_subfolder
from ..files.repository_files import RepositoryFiles

MODULES = "modules.json"
MAX_MODULES = 1_000  # real models have fewer than ten


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
    where = files.where(MODULES)
    data = parse_json(read_bounded(files.locate(MODULES), "modules.json"), where, "modules.json", strict=False,
                      error=ConfigError)
    return parse_modules(data, where)
