"""`amx inspect` of a diffusers pipeline, or of one component of another library: what each component weighs,
from its safetensors headers (a transformers component as `inspect_model` counts it)."""

from __future__ import annotations

from ..base.errors import AmxError
from ..files.config_reader import read_config
from ..files.reference import ModelRef, ResolvedConfig, locate_file
from ..formats.param_groups import group_tensors
from ..formats.safetensors_header import read_headers, tensor_specs
from ..formats.tensors import TensorSpec, elements_by_dtype, main_dtype, memory_for
from ..knowledge.config_summary import ConfigSummary
from ..repository.dispatch import Repository
from ..shapes.pipeline import Component
from .inspection import inspect_model
from .report import InspectReport, ProgressCallback


def measure(component: Component, ref: ModelRef, token: str | None, prefix: str,
            tensors: list[TensorSpec]) -> None:
    """Fill a component's sizes (in place) and add its tensors, named `prefix` + tensor name, to `tensors`.

    A transformers model is counted as `amx inspect` counts it (saved buffers are not parameters; without
    weights, the model built from its config); any other library's tensors all count, from the headers.
    """
    try:
        if component.library == "transformers" and component.has_config:
            report = _inspect_transformers(ref, token, component.class_name)
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

    component.memory_bytes = memory_for(component.num_parameters, stored)
    tensors.extend(TensorSpec(prefix + t.name, t.shape, t.dtype, t.buffer) for t in listed)


def _inspect_transformers(ref: ModelRef, token: str | None, class_name: str | None) -> InspectReport:
    """The component as the pipeline loads it: the class model_index.json names (diffusers calls its
    from_pretrained), else, when transformers cannot build that class from this config, its Auto class's."""
    resolved = ResolvedConfig(ref, read_config(locate_file(ref, "config.json", token)[0]), False)
    if class_name:
        try:
            return inspect_model(resolved, token=token, model_class=class_name)
        except AmxError:
            pass
    return inspect_model(resolved, token=token)


def _from_headers(component: Component, ref: ModelRef, token: str | None):
    """(tensors, bytes of tensor data, weight files) from a component's safetensors headers; no tensors
    without safetensors weights (a pickle is never opened)."""
    headers = read_headers(ref, token=token)
    if headers.format != "safetensors":
        component.note = {"pickle": "pickle-based weights, never opened", "none": "no weights"}[headers.format]
        return None, 0, list(headers.files)
    listed = tensor_specs(headers.tensors)
    return listed, sum(t.nbytes for t in headers.tensors), list(headers.files)


def inspect_components(repository: Repository, token: str | None = None,
                       progress: ProgressCallback | None = None) -> InspectReport:
    """`amx inspect` of a pipeline (every component) or of one component of another library than
    transformers: parameters and memory per component from the headers, and the total."""
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
