"""What a meta build told amx, kept on disk so the next inspection of the model imports nothing.

Building a head on the meta device needs torch and transformers (seconds of imports); its answer
depends only on the installed transformers and torch, the model class and config.json. So the
description of the built model (parameter and buffer names, shapes, dtypes, counts, embedding and
buffer names) is stored under that key, and the load prediction (missing, unexpected and mismatched
keys, buffers and renamed checkpoint keys) under the same key plus the checkpoint's tensor names,
shapes and dtypes. A build that fails is remembered too, with its message, and so are the config
summary (which reads defaults from the imported config class) and the KV-cache layout (which reads
the config object it builds).

Never stale: the key holds the versions of transformers and torch, the size and modification time
of the files the class comes from and of amx's own code that computes the entries, the Auto and
model class and a digest of config.json; a changed one is a miss. Entries are written atomically (a temporary file renamed), the directory is pruned
to `MAX_ENTRIES` and `MAX_BYTES` (oldest first), and an entry that does not parse or was written for
another key is ignored. Repository code (auto_map) is never cached: its files can change under it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base import errors
from ..base.cache_dir import amx_cache_dir
from ..compat.torch_extra import torch_installed
from ..files.config_reader import ModelConfig
from ..formats.tensors import TensorSpec
from ..knowledge.config_summary import ConfigSummary
from ..knowledge.head_index import HeadIndex, installed_transformers
from ..knowledge.kv_cache import CacheGroup, CacheLayout
from .load_prediction import LoadPrediction, Mismatch
from .meta_build import MetaModel

CACHE_FORMAT = 1
MAX_ENTRIES = 1000
MAX_BYTES = 128 * 2**20


def cache_dir() -> Path:
    return amx_cache_dir() / "meta"


@functools.lru_cache(maxsize=1)
def _installed() -> tuple[str, Path, str]:
    """transformers' version and folder, torch's version: read once per process (reading metadata is slow)."""
    version, package_dir = installed_transformers()
    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch_version = "absent"
    return version, package_dir, torch_version


def _stat(path: Path) -> str:
    try:
        info = path.stat()
        return f"{info.st_size}:{info.st_mtime_ns}"
    except OSError:
        return "missing"


@dataclass(frozen=True)
class ModelKey:
    """Everything a meta build of one model class from one config.json depends on."""

    text: str

    def entry(self, kind: str, extra: str = "") -> tuple[str, Path]:
        material = f"{kind}|{self.text}|{extra}"
        return material, cache_dir() / f"{kind}-{hashlib.sha256(material.encode()).hexdigest()[:40]}.json"


@functools.lru_cache(maxsize=1)
def _own_files() -> tuple[Path, ...]:
    """amx's own code that computes what is remembered: a new amx is a new key."""
    package = Path(__file__).parent.parent
    names = ("meta/meta_build.py", "meta/load_prediction.py", "meta/meta_cache.py", "knowledge/config_summary.py",
             "formats/tensors.py", "analysis/inspection.py")
    return (*(package / name for name in names), *sorted((package / "compat").glob("*.py")),
            *sorted((package / "knowledge" / "kv_cache").glob("*.py")))


def model_key(config: ModelConfig, index: HeadIndex, auto_class: str, model_class: str) -> ModelKey:
    version, package_dir, torch_version = _installed()
    files = [package_dir / "modeling_utils.py", package_dir / "configuration_utils.py", *_own_files()]
    for name in (model_class, index.config_class_for(config.model_type or "") or ""):
        module = index.class_modules.get(name, "")
        if module.startswith("transformers."):
            files.append(package_dir.joinpath(*module.split(".")[1:]).with_suffix(".py"))
    config_digest = hashlib.sha256(json.dumps(config.raw, sort_keys=True, default=str).encode()).hexdigest()
    parts = [f"amx-meta-{CACHE_FORMAT}", f"transformers {version} {package_dir}", f"torch {torch_version}",
             *(f"{path.name} {_stat(path)}" for path in files), auto_class, model_class, config_digest]
    return ModelKey("|".join(parts))


def tensors_digest(tensors: list[TensorSpec]) -> str:
    digest = hashlib.sha256()
    for tensor in tensors:
        shape = "as-model" if tensor.shape is None else ",".join(map(str, tensor.shape))
        digest.update(f"{tensor.name}\0{shape}\0{tensor.dtype}\n".encode())
    return digest.hexdigest()


def _read(material: str, path: Path) -> Any:
    """The payload of a valid entry for exactly this key, else None (absent, corrupt or foreign)."""
    try:
        data = json.loads(path.read_text())
        if isinstance(data, dict) and data.get("format") == CACHE_FORMAT and data.get("key") == material:
            return data.get("payload")
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    return None


def _write(material: str, path: Path, payload: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".entry-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w") as out:
                json.dump({"format": CACHE_FORMAT, "key": material, "payload": payload}, out, separators=(",", ":"))
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
        _prune(path.parent)
    except OSError:
        pass  # an unwritable cache only costs speed


def _prune(directory: Path) -> None:
    entries = []
    for path in directory.glob("*.json"):
        try:
            info = path.stat()
        except OSError:
            continue
        entries.append((info.st_mtime_ns, info.st_size, path))
    entries.sort(reverse=True)
    total = 0
    for position, (_, size, path) in enumerate(entries):
        total += size
        if position >= MAX_ENTRIES or total > MAX_BYTES:
            path.unlink(missing_ok=True)


# --- the built model ------------------------------------------------------------------------------------


def _meta_payload(meta: MetaModel) -> dict:
    return {
        "auto_class": meta.auto_class, "model_class": meta.model_class, "dtype": meta.dtype,
        "num_parameters": meta.num_parameters, "embedding_parameters": meta.embedding_parameters,
        "parameters": [[t.name, list(t.shape), t.dtype, t.buffer] for t in meta.parameters],
        "embedding_names": sorted(meta.embedding_names), "buffer_names": sorted(meta.buffer_names),
    }


def _meta_from(payload: dict) -> MetaModel:
    return MetaModel(
        auto_class=payload["auto_class"], model_class=payload["model_class"], dtype=payload["dtype"],
        num_parameters=payload["num_parameters"], embedding_parameters=payload["embedding_parameters"],
        parameters=[TensorSpec(name, tuple(shape), dtype, buffer) for name, shape, dtype, buffer in payload["parameters"]],
        embedding_names=set(payload["embedding_names"]), buffer_names=set(payload["buffer_names"]),
    )


def load_meta(key: ModelKey, where: str) -> MetaModel | errors.AmxError | None:
    """The remembered build (without its torch module), the error it raised, or None when not remembered.

    Errors are remembered per config.json location (`where`), as their messages name it.
    """
    payload = _read(*key.entry("meta"))
    error = _read(*key.entry("error", where)) if payload is None else None
    try:
        if isinstance(payload, dict):
            return _meta_from(payload)
        if isinstance(error, dict):
            kind = getattr(errors, error["kind"], None)
            if isinstance(kind, type) and issubclass(kind, errors.AmxError):
                return kind(error["message"], hint=error["hint"])
    except (KeyError, TypeError, ValueError):
        pass
    return None


def store_meta(key: ModelKey, meta: MetaModel | errors.AmxError, where: str) -> None:
    if isinstance(meta, errors.AmxError):
        _write(*key.entry("error", where), {"kind": type(meta).__name__, "message": meta.message, "hint": meta.hint})
    else:
        _write(*key.entry("meta"), _meta_payload(meta))


# --- the config summary (its defaults come from the imported config class) ---------------------------


def load_summary(key: ModelKey) -> ConfigSummary | None:
    payload = _read(*key.entry("summary"))
    try:
        return ConfigSummary(**payload)
    except TypeError:
        return None


def store_summary(key: ModelKey, summary: ConfigSummary) -> None:
    _write(*key.entry("summary"), dataclasses.asdict(summary))


def load_layout(key: ModelKey) -> CacheLayout | None:
    """The KV-cache layout (it reads the config object the installed transformers builds)."""
    payload = _read(*key.entry("kvcache"))
    try:
        return CacheLayout([CacheGroup(**group) for group in payload["groups"]], list(payload["unknown"]))
    except (KeyError, TypeError):
        return None


def store_layout(key: ModelKey, layout: CacheLayout) -> None:
    _write(*key.entry("kvcache"), dataclasses.asdict(layout))


# --- the load prediction --------------------------------------------------------------------------------


def load_prediction(key: ModelKey, tensors: list[TensorSpec]) -> LoadPrediction | None:
    payload = _read(*key.entry("load", tensors_digest(tensors)))
    try:
        return LoadPrediction(
            missing_keys=list(payload["missing_keys"]), unexpected_keys=list(payload["unexpected_keys"]),
            mismatched_keys=[Mismatch(name, tuple(saved), tuple(expected))
                             for name, saved, expected in payload["mismatched_keys"]],
            not_parameters=set(payload["not_parameters"]), model_names=dict(payload["model_names"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def store_prediction(key: ModelKey, tensors: list[TensorSpec], prediction: LoadPrediction) -> None:
    payload = {
        "missing_keys": prediction.missing_keys, "unexpected_keys": prediction.unexpected_keys,
        "mismatched_keys": [[m.name, list(m.checkpoint_shape), list(m.model_shape)] for m in prediction.mismatched_keys],
        "not_parameters": sorted(prediction.not_parameters), "model_names": prediction.model_names,
    }
    _write(*key.entry("load", tensors_digest(tensors)), payload)


def import_in_background(model_class: str) -> threading.Thread | None:
    """Start importing torch, transformers and the model's module while the caller reads the Hub (None
    without torch: nothing will be built).

    Whatever fails here fails again, with its real message, when the caller builds the model.
    """
    if not torch_installed():
        return None

    def warm() -> None:
        try:
            import torch  # noqa: F401
            import transformers

            getattr(transformers, model_class, None)
        except Exception:  # noqa: BLE001 - reported by the build itself
            pass

    thread = threading.Thread(target=warm, name="amx-import", daemon=True)
    thread.start()
    return thread
