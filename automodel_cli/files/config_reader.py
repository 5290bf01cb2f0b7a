"""Reading config.json files written by strangers: bounded, strict about types, never executing anything."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base.errors import ConfigError
from ..base.json_input import json_type_name, parse_json_object

MAX_CONFIG_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class ModelConfig:
    """The parts of config.json amx reasons about, plus the raw mapping for everything else."""

    path: Path
    raw: dict[str, Any]
    model_type: str | None
    architectures: list[str]
    auto_map: dict[str, str] = field(default_factory=dict)
    transformers_version: str | None = None

    @property
    def native_architecture(self) -> str | None:
        return self.architectures[0] if self.architectures else None


def load_json_object(path: Path, what: str = "config") -> dict[str, Any]:
    """Parse a JSON object from a regular file of bounded size; every failure is a ConfigError."""
    return parse_json_object(read_bounded(path, what), str(path), what, strict=False, error=ConfigError)


def read_bounded(path: Path, what: str = "config") -> bytes:
    """The bytes of a small JSON file written by a stranger: a regular file (a FIFO would block), not empty,
    at most MAX_CONFIG_BYTES; every failure is a ConfigError."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: not a regular file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {info.st_size:,} bytes is too large for a {what} (limit {MAX_CONFIG_BYTES:,})")
        if info.st_size == 0:
            raise ConfigError(f"{path}: the file is empty")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read {what}: {error.strerror or error}") from None
    return raw


def read_config(path: Path) -> ModelConfig:
    """Read and validate a model's config.json."""
    raw = load_json_object(path)

    model_type = raw.get("model_type")
    if model_type is not None and not isinstance(model_type, str):
        raise ConfigError(f"{path}: model_type must be a string, found {json_type_name(model_type)}")

    architectures = raw.get("architectures")
    if architectures is None:
        architectures = []
    if not isinstance(architectures, list) or not all(isinstance(a, str) for a in architectures):
        raise ConfigError(f"{path}: architectures must be a list of class names, found {json_type_name(architectures)}")

    auto_map = raw.get("auto_map") or {}
    if not isinstance(auto_map, dict):
        raise ConfigError(f"{path}: auto_map must be an object, found {json_type_name(auto_map)}")
    # Tokenizer entries are [slow, fast] pairs; model entries are "module.Class" strings.
    model_auto_map = {key: value for key, value in auto_map.items() if isinstance(value, str)}

    version = raw.get("transformers_version")
    return ModelConfig(
        path=path,
        raw=raw,
        model_type=model_type or None,
        architectures=list(architectures),
        auto_map=model_auto_map,
        transformers_version=version if isinstance(version, str) else None,
    )


def saved_by_newer_transformers(config: ModelConfig, installed: str) -> bool:
    """Whether config.json was written by a transformers release series newer than `installed`.

    Such a config may rely on settings the installed version ignores. Patch releases (5.25.1 after 5.25.0)
    fix bugs and add no settings, so only major.minor counts. Unparsable versions count as not newer.
    """
    from packaging.version import InvalidVersion, Version

    if not config.transformers_version:
        return False
    try:
        return Version(config.transformers_version).release[:2] > Version(installed).release[:2]
    except InvalidVersion:
        return False
