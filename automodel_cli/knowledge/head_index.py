"""An index of transformers' Auto mappings, built once per installed transformers and cached.

Importing transformers (and with it torch) takes seconds; reading this JSON index takes
milliseconds. The index mirrors exactly what `AutoXxx.from_config` consults: for each config class,
which Auto classes accept it (`_LazyAutoMapping.__contains__`) and which model class(es) each maps it to.
It also holds the same lookup for the preprocessing Auto classes (AutoTokenizer, AutoImageProcessor,
...), the preprocessing class names transformers exports, and which Auto classes each pipeline task uses.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..base.cache_dir import amx_cache_dir
from ..base.errors import AmxError
from ..compat.adapters import AdapterLoading, installed_adapter_loading
from ..compat.pipeline_tasks import pipeline_model_classes

INDEX_FORMAT = 4
_FINGERPRINT_FILES = (
    "models/auto/configuration_auto.py", "models/auto/modeling_auto.py", "models/auto/auto_mappings.py",
    "models/auto/auto_factory.py", "models/auto/tokenization_auto.py", "models/auto/image_processing_auto.py",
    "models/auto/feature_extraction_auto.py", "models/auto/processing_auto.py",
    "models/auto/video_processing_auto.py", "pipelines/__init__.py", "integrations/peft.py",
)
# Preprocessing Auto class -> (module of transformers.models.auto, its _LazyAutoMapping).
PREPROCESSOR_MAPPINGS = {
    "AutoTokenizer": ("tokenization_auto", "TOKENIZER_MAPPING"),
    "AutoImageProcessor": ("image_processing_auto", "IMAGE_PROCESSOR_MAPPING"),
    "AutoVideoProcessor": ("video_processing_auto", "VIDEO_PROCESSOR_MAPPING"),
    "AutoFeatureExtractor": ("feature_extraction_auto", "FEATURE_EXTRACTOR_MAPPING"),
    "AutoProcessor": ("processing_auto", "PROCESSOR_MAPPING"),
}
_PREPROCESSOR_NAME = re.compile(r"(Tokenizer|TokenizerFast|Backend|ImageProcessorPil|FeatureExtractor|Processor)$")


@dataclass(frozen=True)
class HeadIndex:
    transformers_version: str
    auto_classes: list[str]  # every Auto model class, in modeling_auto's order
    config_classes: dict[str, str]  # model_type -> config class name
    heads: dict[str, dict[str, list[str]]]  # config class -> {auto class -> candidate model classes}
    # config class -> {preprocessing Auto class -> class names, preferred backend first}
    preprocessors: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    preprocessor_classes: list[str] = field(default_factory=list)  # names `transformers` exports
    pipelines: dict[str, list[str]] = field(default_factory=dict)  # pipeline task -> Auto classes it loads
    # model and config class -> the module transformers' lazy loader takes it from (read without importing)
    class_modules: dict[str, str] = field(default_factory=dict)
    # What the adapter loader of this release loads of a PEFT adapter (compat/adapters.py)
    adapter_loading: dict[str, bool] = field(default_factory=dict)
    # Only in the live index after `--import` (registered.py), never in the cached one:
    imports: list[str] = field(default_factory=list)  # the modules imported, in order
    registered_configs: dict[str, str] = field(default_factory=dict)  # model_type -> module that registered it
    registered_heads: dict[str, dict[str, str]] = field(default_factory=dict)  # config class -> {auto -> module}

    def config_class_for(self, model_type: str) -> str | None:
        return self.config_classes.get(model_type)

    def heads_for(self, config_class: str) -> dict[str, list[str]]:
        """Auto classes accepting `config_class`, in the index's Auto-class order."""
        mapped = self.heads.get(config_class, {})
        return {auto: mapped[auto] for auto in self.auto_classes if auto in mapped}

    def adapter_rules(self) -> AdapterLoading:
        return AdapterLoading(**self.adapter_loading)

    def preprocessors_for(self, config_class: str) -> dict[str, list[str]]:
        return self.preprocessors.get(config_class, {})

    def to_json(self) -> dict:
        return {"format": INDEX_FORMAT, **self.__dict__}


def installed_transformers() -> tuple[str, Path]:
    """Version and package directory of transformers, found without importing it."""
    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.submodule_search_locations:
        raise AmxError("transformers is not installed", hint="pip install 'transformers>=5'")
    return importlib.metadata.version("transformers"), Path(list(spec.submodule_search_locations)[0])


def _fingerprint(version: str, package_dir: Path) -> str:
    digest = hashlib.sha256(f"{INDEX_FORMAT}|{version}|{package_dir}".encode())
    for name in _FINGERPRINT_FILES:
        try:
            info = (package_dir / name).stat()
            digest.update(f"|{name}:{info.st_size}:{info.st_mtime_ns}".encode())
        except OSError:
            digest.update(f"|{name}:missing".encode())
    return digest.hexdigest()[:16]


def index_path() -> Path:
    version, package_dir = installed_transformers()
    return amx_cache_dir() / "head-index" / f"transformers-{version}-{_fingerprint(version, package_dir)}.json"


def _class_names(value) -> list[str]:
    """A mapping value as class names: a name, a (slow, fast) tuple, or {backend: name} (torchvision first)."""
    if isinstance(value, dict):
        value = [value.get("torchvision"), *(v for k, v in value.items() if k != "torchvision")]
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v if isinstance(v, str) else v.__name__ for v in values if v is not None]


def _mapping_entries(lazy, include_registered: bool) -> dict[str, list[str]]:
    """config class name -> class names, the lookup `_LazyAutoMapping.__contains__`/`__getitem__` does.

    An empty list: mapped, but every class needs a backend that is not installed (torchvision, tokenizers).
    Registered classes (`_extra_content`, which take precedence in transformers) only with `include_registered`.
    """
    entries = {}
    for config_name, model_type in lazy._reverse_config_mapping.items():
        if model_type in lazy._model_mapping:
            entries[config_name] = _class_names(lazy._model_mapping[model_type])
    if include_registered:
        for config_class, value in lazy._extra_content.items():
            entries[config_class.__name__] = _class_names(value)
    return entries


def auto_model_classes() -> list[tuple[str, type]]:
    """(name, class) of every Auto model class of the installed transformers, in modeling_auto's order.

    The module is imported by its full name: through `transformers.models.auto`, whose lazy table marks it
    as needing torch, it is a placeholder without torch, yet it defines its classes without importing torch.
    """
    import importlib

    from transformers.models.auto.auto_factory import _BaseAutoModelClass

    modeling_auto = importlib.import_module("transformers.models.auto.modeling_auto")

    return [
        (name, value)
        for name, value in vars(modeling_auto).items()
        if name.startswith("Auto")
        and isinstance(value, type)
        and issubclass(value, _BaseAutoModelClass)
        and getattr(value, "_model_mapping", None) is not None
    ]


def build_index(include_registered: bool = False) -> HeadIndex:
    """Read the mappings out of the installed transformers (slow: imports transformers).

    Classes registered in this process (`AutoModel.register`...) only with `include_registered`: the cached
    index is shared by every project and must hold transformers' own classes alone.
    """
    import importlib

    import transformers
    from transformers.models.auto import configuration_auto

    auto_classes = auto_model_classes()
    heads: dict[str, dict[str, list[str]]] = {}
    for auto_name, auto_class in auto_classes:
        for config_name, names in _mapping_entries(auto_class._model_mapping, include_registered).items():
            heads.setdefault(config_name, {})[auto_name] = names
    preprocessors: dict[str, dict[str, list[str]]] = {}
    for auto_name, (module_name, mapping_name) in PREPROCESSOR_MAPPINGS.items():
        module = importlib.import_module(f"transformers.models.auto.{module_name}")
        for config_name, names in _mapping_entries(getattr(module, mapping_name), include_registered).items():
            preprocessors.setdefault(config_name, {})[auto_name] = names
    config_classes = dict(configuration_auto.CONFIG_MAPPING_NAMES)
    if include_registered:
        config_classes.update({key: value.__name__ for key, value in configuration_auto.CONFIG_MAPPING._extra_content.items()})
    version, _ = installed_transformers()
    named = {name for mapped in heads.values() for names in mapped.values() for name in names}
    named.update(configuration_auto.CONFIG_MAPPING_NAMES.values())
    lazy = transformers._class_to_module  # the lazy top-level module's own table: nothing is imported
    return HeadIndex(
        transformers_version=version,
        auto_classes=[name for name, _ in auto_classes],
        config_classes=config_classes,
        heads=heads,
        preprocessors=preprocessors,
        preprocessor_classes=sorted(name for name in dir(transformers) if _PREPROCESSOR_NAME.search(name)),
        pipelines=pipeline_model_classes(),
        class_modules={name: f"transformers.{lazy[name]}" for name in sorted(named) if name in lazy},
        adapter_loading=asdict(installed_adapter_loading()),
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


_live_index: HeadIndex | None = None  # the mappings after `--import`, for the rest of this process


def use_live_index(index: HeadIndex) -> None:
    """From now on `load_index` answers with `index` (built after importing a project's modules), not the cache."""
    global _live_index
    _live_index = index


def load_index(on_build=None) -> HeadIndex:
    """The cached index for the installed transformers, building it (once) when missing or stale.

    After `registered.import_modules`, the live index with the project's registered classes instead.
    `on_build` is called before a build so the caller can show progress; it may return a context manager.
    """
    if _live_index is not None:
        return _live_index
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
