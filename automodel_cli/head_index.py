"""An index of transformers' Auto model mappings, built once per installed transformers and cached.

Importing transformers (and with it torch) takes seconds; reading this JSON index takes
milliseconds. The index mirrors exactly what `AutoXxx.from_config` consults: for each config class,
which Auto classes accept it (`_LazyAutoMapping.__contains__`) and which model class(es) each maps it to.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .cache import amx_cache_dir

INDEX_FORMAT = 1
_FINGERPRINT_FILES = ("configuration_auto.py", "modeling_auto.py", "auto_mappings.py", "auto_factory.py")


@dataclass(frozen=True)
class HeadIndex:
    transformers_version: str
    auto_classes: list[str]  # every Auto model class, in modeling_auto's order
    config_classes: dict[str, str]  # model_type -> config class name
    heads: dict[str, dict[str, list[str]]]  # config class -> {auto class -> candidate model classes}

    def config_class_for(self, model_type: str) -> str | None:
        return self.config_classes.get(model_type)

    def heads_for(self, config_class: str) -> dict[str, list[str]]:
        """Auto classes accepting `config_class`, in the index's Auto-class order."""
        mapped = self.heads.get(config_class, {})
        return {auto: mapped[auto] for auto in self.auto_classes if auto in mapped}

    def to_json(self) -> dict:
        return {"format": INDEX_FORMAT, **self.__dict__}


def installed_transformers() -> tuple[str, Path]:
    """Version and package directory of transformers, found without importing it."""
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        from .errors import AmxError

        raise AmxError("transformers is not installed", hint="pip install 'transformers>=5'")
    return importlib.metadata.version("transformers"), Path(list(spec.submodule_search_locations)[0])


def _fingerprint(version: str, package_dir: Path) -> str:
    digest = hashlib.sha256(f"{INDEX_FORMAT}|{version}|{package_dir}".encode())
    for name in _FINGERPRINT_FILES:
        try:
            info = (package_dir / "models" / "auto" / name).stat()
            digest.update(f"|{name}:{info.st_size}:{info.st_mtime_ns}".encode())
        except OSError:
            digest.update(f"|{name}:missing".encode())
    return digest.hexdigest()[:16]


def index_path() -> Path:
    version, package_dir = installed_transformers()
    return amx_cache_dir() / "head-index" / f"transformers-{version}-{_fingerprint(version, package_dir)}.json"


def build_index() -> HeadIndex:
    """Read the mappings out of the installed transformers (slow: imports transformers)."""
    from transformers.models.auto import configuration_auto, modeling_auto
    from transformers.models.auto.auto_factory import _BaseAutoModelClass

    auto_classes = [
        (name, value)
        for name, value in vars(modeling_auto).items()
        if name.startswith("Auto")
        and isinstance(value, type)
        and issubclass(value, _BaseAutoModelClass)
        and getattr(value, "_model_mapping", None) is not None
    ]
    config_classes = dict(configuration_auto.CONFIG_MAPPING_NAMES)
    heads: dict[str, dict[str, list[str]]] = {}
    for auto_name, auto_class in auto_classes:
        lazy = auto_class._model_mapping
        # Same lookup as _LazyAutoMapping.__contains__/__getitem__: config class -> model_type -> model class.
        for config_name, model_type in lazy._reverse_config_mapping.items():
            model_names = lazy._model_mapping.get(model_type)
            if model_names is None:
                continue
            names = list(model_names) if isinstance(model_names, (list, tuple)) else [model_names]
            heads.setdefault(config_name, {})[auto_name] = names
        for config_class, model_class in lazy._extra_content.items():
            classes = model_class if isinstance(model_class, (list, tuple)) else [model_class]
            heads.setdefault(config_class.__name__, {})[auto_name] = [c.__name__ for c in classes]
    version, _ = installed_transformers()
    return HeadIndex(
        transformers_version=version,
        auto_classes=[name for name, _ in auto_classes],
        config_classes=config_classes,
        heads=heads,
    )


def _write_atomically(path: Path, payload: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".index-", suffix=".json")
        with os.fdopen(handle, "w") as out:
            json.dump(payload, out, separators=(",", ":"))
        os.replace(temp, path)
    except OSError:
        pass  # an unwritable cache only costs speed


def load_index(on_build=None) -> HeadIndex:
    """The cached index for the installed transformers, building it (once) when missing or stale.

    `on_build` is called before a build so the caller can show progress; it may return a context manager.
    """
    path = index_path()
    try:
        data = json.loads(path.read_text())
        if data.pop("format", None) == INDEX_FORMAT:
            return HeadIndex(**data)
    except (OSError, ValueError, TypeError):
        pass
    if on_build is not None:
        with on_build():
            index = build_index()
    else:
        index = build_index()
    _write_atomically(path, index.to_json())
    return index
