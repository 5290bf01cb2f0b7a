"""diffusers pipelines: the components model_index.json names, and what each weighs, from safetensors headers.

model_index.json maps each component to `[library, class]` (`"unet": ["diffusers", "UNet2DConditionModel"]`)
and diffusers loads it from the subfolder of that name. Other keys are the pipeline's settings
(`requires_safety_checker`); `[null, null]` is a component left out. Component names are folder names
here, so they are checked not to escape the repository; nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config_reader import load_json_object
from .errors import AmxError, ConfigError
from .json_input import json_type_name
from .reference import check_subfolder

if TYPE_CHECKING:
    from .inspection import InspectReport, ProgressCallback
    from .meta_build import TensorSpec
    from .reference import ModelRef
    from .repository import Repository, RepositoryFiles

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


def measure(component: Component, ref: ModelRef, token: str | None, prefix: str,
            tensors: list[TensorSpec]) -> None:
    """Fill a component's sizes (in place) and add its tensors, named `prefix` + tensor name, to `tensors`.

    A transformers model is counted as `amx inspect` counts it (saved buffers are not parameters; without
    weights, the model built from its config); any other library's tensors all count, from the headers.
    """
    from .meta_build import TensorSpec

    try:
        if component.library == "transformers" and component.has_config:
            report = _inspect_transformers(ref, token)
            listed, stored, files = report.parameters, report.memory_bytes["checkpoint"], report.checkpoint_files
            if report.source != "safetensors":
                built = report.head.model_class if report.head else "its Auto class"
                component.note = (f"no safetensors weights: counted from {built} built from its config"
                                  + (f" (the pipeline loads {component.class_name})"
                                     if component.class_name and component.class_name != built else ""))
        else:
            listed, stored, files = _from_headers(component, ref, token)
    except AmxError as error:
        component.note = f"not measured: {error.message}"
        return
    component.checkpoint_files = files
    if listed is None:
        return
    component.num_parameters = sum(t.numel for t in listed if not t.buffer)
    component.checkpoint_bytes = stored if files else None
    component.dtypes = {}
    for tensor in listed:
        component.dtypes[tensor.dtype] = component.dtypes.get(tensor.dtype, 0) + tensor.numel
    from .inspection import memory_for

    component.memory_bytes = memory_for(component.num_parameters, stored)
    tensors.extend(TensorSpec(prefix + t.name, t.shape, t.dtype, t.buffer) for t in listed)


def _inspect_transformers(ref: ModelRef, token: str | None) -> InspectReport:
    from .config_reader import read_config
    from .inspection import inspect_model
    from .reference import ResolvedConfig, locate_file

    return inspect_model(ResolvedConfig(ref, read_config(locate_file(ref, "config.json", token)[0]), False),
                         token=token)


def _from_headers(component: Component, ref: ModelRef, token: str | None):
    """(tensors, bytes of tensor data, weight files) from a component's safetensors headers; no tensors
    without safetensors weights (a pickle is never opened)."""
    from .meta_build import TensorSpec
    from .safetensors_header import read_headers

    headers = read_headers(ref, token=token)
    if headers.format != "safetensors":
        component.note = {"pickle": "pickle-based weights, never opened", "none": "no weights"}[headers.format]
        return None, 0, list(headers.files)
    listed = [TensorSpec(t.name, tuple(t.shape), t.dtype) for t in headers.tensors]
    return listed, sum(t.nbytes for t in headers.tensors), list(headers.files)


def inspect_components(repository: Repository, token: str | None = None,
                       progress: ProgressCallback | None = None) -> InspectReport:
    """`amx inspect` of a pipeline (every component) or of one component of another library than
    transformers: parameters and memory per component from the headers, and the total."""
    from .config_summary import ConfigSummary
    from .inspection import InspectReport, elements_by_dtype, main_dtype, memory_for
    from .param_groups import group_tensors

    pipeline, single = repository.pipeline, repository.component
    components = pipeline.components if pipeline is not None else [single]
    tensors: list[TensorSpec] = []
    for done, component in enumerate(components):
        if progress:
            progress(done, len(components))
        where = repository.ref.inside(component.path) if pipeline is not None else repository.ref
        if component.library is not None and (component.has_config or pipeline is None):
            measure(component, where, token, f"{component.name}." if pipeline is not None else "", tensors)
        elif not component.present:
            component.note = "its folder is not in the repository"
        elif not component.has_config:
            component.note = "no weights (a scheduler, tokenizer or processor)"
    measured = [c for c in components if c.num_parameters is not None]
    total = sum(c.num_parameters for c in measured)
    stored = sum(c.checkpoint_bytes or 0 for c in measured)
    estimated = sum(c.memory_bytes["checkpoint"] for c in measured if c.memory_bytes)
    files = [f"{c.path}/{name}" if c.path and pipeline is not None else name
             for c in measured for name in c.checkpoint_files]
    what = (f"diffusers pipeline {pipeline.class_name or ''}".rstrip() if pipeline is not None
            else f"{single.library or 'non-model'} component {single.class_name or ''}".rstrip())
    notes = [f"{what}: no transformers Auto heads; "
             + ("--subfolder NAME answers for one component" if pipeline is not None else
                f"load it with {single.library or 'its own library'}")]
    notes += [f"{c.name}: {c.note}" for c in components if c.note]
    return InspectReport(
        model=repository.display(), source="safetensors" if files else "meta",
        checkpoint_format="safetensors" if files else "none",
        summary=ConfigSummary(None, single.class_name if single else pipeline.class_name,
                              *([None] * 9)),
        total_parameters=total, embedding_parameters=None, non_embedding_parameters=None,
        checkpoint_bytes=stored if files else None, checkpoint_files=files,
        checkpoint_dtype=main_dtype(tensors), dtypes=elements_by_dtype(tensors),
        memory_bytes=memory_for(total, estimated),
        kv_cache=None, parameters=tensors, groups=group_tensors(tensors), head=None, notes=notes,
        from_cache=repository.from_cache, components=components,
    )
