"""Which preprocessing Auto classes apply to a model, read from its small JSON files, never loading them.

transformers decides the class of `AutoTokenizer.from_pretrained` (and of AutoImageProcessor,
AutoVideoProcessor, AutoFeatureExtractor, AutoProcessor) from the class name a file declares
(`tokenizer_class` in tokenizer_config.json, `image_processor_type` in preprocessor_config.json, a
nested entry of processor_config.json, ...), else from its mapping for the config's model_type. This
module follows the same order, over the same files, and checks each declared name against the class
names the installed transformers exports. A missing file is normal: many models have no processor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..base.errors import ConfigError, HubUnreachableError, ModelNotFoundError
from ..files.config_reader import ModelConfig, load_json_object
from ..files.reference import ModelRef, locate_file
from .head_index import PREPROCESSOR_MAPPINGS, HeadIndex

TOKENIZER_CONFIG = "tokenizer_config.json"
PREPROCESSOR_CONFIG = "preprocessor_config.json"
PROCESSOR_CONFIG = "processor_config.json"
VIDEO_PREPROCESSOR_CONFIG = "video_preprocessor_config.json"
FILES = (TOKENIZER_CONFIG, PREPROCESSOR_CONFIG, PROCESSOR_CONFIG, VIDEO_PREPROCESSOR_CONFIG)
FOUND, ABSENT, UNKNOWN, INVALID = "found", "absent", "unknown", "invalid"
MAPPING = "model_type mapping"

# Auto class -> where its class name is declared, in transformers' lookup order:
# (file, key nesting the settings inside that file or None, key naming the class).
_DECLARATIONS: dict[str, list[tuple[str, str | None, str]]] = {
    "AutoProcessor": [(PROCESSOR_CONFIG, None, "processor_class"), (PREPROCESSOR_CONFIG, None, "processor_class"),
                      (VIDEO_PREPROCESSOR_CONFIG, None, "processor_class"), (TOKENIZER_CONFIG, None, "processor_class"),
                      ("config.json", None, "processor_class")],
    "AutoTokenizer": [(TOKENIZER_CONFIG, None, "tokenizer_class"), ("config.json", None, "tokenizer_class")],
    "AutoImageProcessor": [(PROCESSOR_CONFIG, "image_processor", "image_processor_type"),
                           (PREPROCESSOR_CONFIG, None, "image_processor_type"),
                           (PREPROCESSOR_CONFIG, None, "feature_extractor_type"),
                           ("config.json", None, "image_processor_type")],
    "AutoVideoProcessor": [(PROCESSOR_CONFIG, "video_processor", "video_processor_type"),
                           (VIDEO_PREPROCESSOR_CONFIG, None, "video_processor_type"),
                           ("config.json", None, "video_processor_type")],
    "AutoFeatureExtractor": [(PROCESSOR_CONFIG, "feature_extractor", "feature_extractor_type"),
                             (PREPROCESSOR_CONFIG, None, "feature_extractor_type"),
                             ("config.json", None, "feature_extractor_type")],
}


@dataclass
class Preprocessor:
    auto_class: str  # AutoTokenizer, AutoImageProcessor, AutoVideoProcessor, AutoFeatureExtractor, AutoProcessor
    class_name: str | None  # what from_pretrained would build; None when only repository code or nothing fits
    source: str  # where that came from: a file name, "model_type mapping" or "auto_map"
    declared: str | None  # the class name the files declare, verbatim
    known: bool | None  # the installed transformers has `declared`; None when nothing is declared
    remote_code: str | None  # the auto_map reference: needs trust_remote_code=True
    note: str = ""


@dataclass
class ProcessorsReport:
    files: dict[str, str]  # file -> found, absent, unknown (Hub not reachable, not cached) or invalid
    processors: list[Preprocessor]
    notes: list[str] = field(default_factory=list)


def _read(ref: ModelRef, name: str, token: str | None, notes: list[str]) -> tuple[dict[str, Any] | None, str]:
    try:
        path, _ = locate_file(ref, name, token=token)
        return load_json_object(path, what=name), FOUND
    except ModelNotFoundError:
        return None, ABSENT
    except HubUnreachableError:
        return None, UNKNOWN
    except ConfigError as error:
        notes.append(f"{error.message}: transformers would fail to read it")
        return None, INVALID


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _remote_reference(auto_map: Any, auto_class: str) -> str | None:
    """The auto_map entry for `auto_class`: 'module.Class', or [slow, fast] for tokenizers (fast preferred)."""
    if auto_class == "AutoTokenizer" and isinstance(auto_map, list):  # legacy: the tokenizer pair itself
        entry: Any = auto_map
    elif isinstance(auto_map, dict):
        entry = auto_map.get(auto_class)
    else:
        return None
    if isinstance(entry, list):
        return next((_string(v) for v in reversed(entry) if _string(v)), None)
    if isinstance(entry, dict):  # image/video processors: {backend: reference}
        return next((_string(v) for v in entry.values() if _string(v)), None)
    return _string(entry)


class _Lookup:
    """The documents of one model, and the class names the installed transformers knows."""

    def __init__(self, documents: dict[str, dict[str, Any] | None], index: HeadIndex, config_class: str | None):
        self.documents = documents
        self.exported = set(index.preprocessor_classes)
        self.mapped = index.preprocessors_for(config_class) if config_class else {}

    def section(self, file: str, nested: str | None) -> dict[str, Any] | None:
        document = self.documents.get(file)
        if document is not None and nested is not None:
            document = document.get(nested)
        return document if isinstance(document, dict) else None

    def known(self, auto_class: str, name: str) -> bool:
        if auto_class == "AutoImageProcessor":  # transformers reads XFeatureExtractor as XImageProcessor
            name = name.replace("FeatureExtractor", "ImageProcessor")
        return name in self.exported or name.removesuffix("Fast") in self.exported

    def declaration(self, auto_class: str) -> tuple[str | None, str | None, str | None]:
        """(declared class, file it is declared in, auto_map reference), in transformers' lookup order."""
        remote = None
        for file, nested, key in _DECLARATIONS[auto_class]:
            section = self.section(file, nested)
            if section is None:
                continue
            remote = remote or _remote_reference(section.get("auto_map"), auto_class)
            declared = _string(section.get(key))
            if declared and key == "feature_extractor_type" and auto_class == "AutoImageProcessor":
                if not self.known(auto_class, declared):  # an audio feature extractor: no image processor
                    continue
            if declared:
                return declared, file, remote
        return None, None, remote

    def preprocessor(self, auto_class: str) -> Preprocessor | None:
        declared, file, remote = self.declaration(auto_class)
        candidates = self.mapped.get(auto_class)
        if declared is None and remote is None:
            if candidates is None:
                return None
            if not candidates:
                return Preprocessor(auto_class, None, MAPPING, None, None, None,
                                    "mapped, but its class needs a backend that is not installed (torchvision...)")
            return Preprocessor(auto_class, candidates[0], MAPPING, None, None, None)
        mapped = candidates[0] if candidates else None
        known = self.known(auto_class, declared) if declared else None
        local = declared if known else mapped
        if remote:
            note = (f"repository code; without trust_remote_code=True transformers uses {local}" if local
                    else "repository code: needs trust_remote_code=True")
            return Preprocessor(auto_class, local, "auto_map", declared, known, remote, note)
        if known:
            return Preprocessor(auto_class, declared, file or "", declared, True, None)
        fallback = f"; transformers uses {mapped} instead" if mapped else ": upgrade transformers or check the model"
        return Preprocessor(auto_class, mapped, MAPPING if mapped else file or "", declared, False, None,
                            f"{declared} is not in the installed transformers{fallback}")


def find_processors(ref: ModelRef, config: ModelConfig, index: HeadIndex, token: str | None = None) -> ProcessorsReport:
    """The preprocessing Auto classes that apply to the model `ref` names, with the class each would build."""
    notes: list[str] = []
    documents: dict[str, dict[str, Any] | None] = {"config.json": config.raw}
    files = {}
    for name in FILES:
        documents[name], files[name] = _read(ref, name, token, notes)
    config_class = index.config_class_for(config.model_type) if config.model_type else None
    lookup = _Lookup(documents, index, config_class)
    processors = [found for auto in PREPROCESSOR_MAPPINGS if (found := lookup.preprocessor(auto)) is not None]
    processors.sort(key=lambda p: list(_DECLARATIONS).index(p.auto_class))
    if not any(p.auto_class == "AutoProcessor" for p in processors) and processors:
        notes.append("no AutoProcessor class: AutoProcessor.from_pretrained returns the first of "
                     "AutoTokenizer, AutoImageProcessor, AutoVideoProcessor, AutoFeatureExtractor that loads")
    if UNKNOWN in files.values():
        notes.append("some files could not be fetched (Hub unreachable and not cached): the answer may be incomplete")
    return ProcessorsReport(files, processors, notes)
