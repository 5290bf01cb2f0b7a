"""diffusers pipelines: the components model_index.json names, and what each weighs, from safetensors headers.

model_index.json maps each component to `[library, class]` (`"unet": ["diffusers", "UNet2DConditionModel"]`)
and diffusers loads it from the subfolder of that name. Other keys are the pipeline's settings
(`requires_safety_checker`); `[null, null]` is a component left out. Component names are folder names
here, so they are checked not to escape the repository; nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..base.errors import AmxError, ConfigError
from ..base.json_input import json_type_name
from ..files.reference import ModelRef, check_subfolder
from ..files.repository_files import RepositoryFiles

MODEL_INDEX = "model_index.json"
MAX_COMPONENTS = 1_000  # real pipelines have fewer than 20


@dataclass
class Component:
    """One component of a pipeline; the sizes are filled by `amx inspect` from its safetensors headers."""

    name: str
    library: str | None  # "transformers", "diffusers", ... (None: unknown)
    class_name: str | None
    num_parameters: int | None = None  # None: not measured, or no safetensors weights
    path: str = ""  # the folder, relative to the repository
    has_config: bool = False  # the folder holds config.json (a model, not a scheduler or tokenizer)
    present: bool = True  # the folder is in the repository
    checkpoint_files: list[str] = field(default_factory=list)
    checkpoint_bytes: int | None = None
    dtypes: dict[str, int] = field(default_factory=dict)
    memory_bytes: dict[str, int] | None = None
    note: str = ""


@dataclass
class Pipeline:
    class_name: str | None  # model_index.json's _class_name, e.g. StableDiffusionXLPipeline
    diffusers_version: str | None
    components: list[Component]


def parse_model_index(raw: dict[str, Any], where: str) -> Pipeline:
    """The components of a model_index.json; wrong types and escaping names are one ConfigError line."""
    class_name, version = raw.get("_class_name"), raw.get("_diffusers_version")
    for key, value in (("_class_name", class_name), ("_diffusers_version", version)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string, found {json_type_name(value)}")
    components = []
    for name, value in raw.items():
        if name.startswith("_") or not isinstance(value, list):
            continue  # a pipeline setting, not a component
        if len(value) != 2 or not all(item is None or isinstance(item, str) for item in value):
            raise ConfigError(f"{where}: component {_shown(name)} must be [library, class] (two strings or "
                              f"nulls), found {', '.join(json_type_name(item) for item in value[:3]) or 'nothing'}")
        if value == [None, None]:
            continue
        if len(components) >= MAX_COMPONENTS:
            raise ConfigError(f"{where}: more than {MAX_COMPONENTS:,} components; amx refuses it")
        try:
            check_subfolder(name, where)
        except AmxError:
            raise ConfigError(f"{where}: component {_shown(name)} points outside the repository") from None
        if "/" in name:
            raise ConfigError(f"{where}: component {_shown(name)} is not a folder name of this repository")
        components.append(Component(name, value[0], value[1], path=name))
    return Pipeline(class_name, version, components)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def read_pipeline(files: RepositoryFiles) -> Pipeline:
    pipeline = parse_model_index(files.read_json(MODEL_INDEX, "model_index.json"), files.where(MODEL_INDEX))
    for component in pipeline.components:
        component.has_config = files.has(f"{component.path}/config.json")
        component.present = component.has_config or files.has_folder(component.path)
    return pipeline


def component_of(files: RepositoryFiles) -> Component | None:
    """The component a `--subfolder` names, from the repository's model_index.json (None when there is none)."""
    root = files.at_root()
    if not root.has(MODEL_INDEX):
        return None
    pipeline = parse_model_index(root.read_json(MODEL_INDEX, "model_index.json"), root.where(MODEL_INDEX))
    component = next((c for c in pipeline.components if c.name == files.ref.subfolder), None)
    if component is not None:
        component.has_config = files.has("config.json")
    return component


def component_from_config(ref: ModelRef, raw: dict[str, Any]) -> Component:
    """A folder whose config.json was written by diffusers (`_class_name`, `_diffusers_version`)."""
    class_name = raw.get("_class_name")
    return Component(ref.subfolder or ref.display(), "diffusers", class_name if isinstance(class_name, str) else None,
                     path=ref.subfolder, has_config=True)
