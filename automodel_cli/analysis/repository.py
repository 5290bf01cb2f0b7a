"""`amx inspect` of any repository shape: each shape's inspection, chosen by what the repository is."""

from __future__ import annotations

from ..knowledge.head_index import HeadIndex
from ..knowledge.quantization.machine import Device
from ..repository.dispatch import Repository
from ..shapes.adapter import read_adapter_weights
from .gguf import inspect_gguf
from .inspection import inspect_model
from .pipeline import inspect_components
from .report import HeadersCallback, InspectReport, ProgressCallback
from .sentence_transformers import add_module_tensors, measure_chain
from .structure import structure_digest, structure_of


def inspect_repository(repository: Repository, head: str | None = None, token: str | None = None,
                       progress: ProgressCallback | None = None, trust_remote_code: bool = False,
                       index: HeadIndex | None = None, device: Device | None = None, tokens: int | None = None,
                       batch: int = 1, on_headers: HeadersCallback | None = None) -> InspectReport:
    """`inspect_model` for any repository shape: an adapter (its base, its own tensors, and base + adapter
    with the head), a sentence-transformers model (its Transformer module and the module chain), a pipeline
    or a component of another library (parameters per component), a GGUF checkpoint (from its header).
    The report carries the digest of the repository's structure (`structure_digest`).

    `on_headers(facts)`: called with what the headers say before torch or transformers is imported, for a
    transformers model with safetensors weights and for a GGUF file (other shapes: never called)."""
    report = _inspect_shape(repository, head, token, progress, trust_remote_code, index, device, tokens, batch,
                            on_headers)
    report.structure_digest = structure_digest(structure_of(repository, report))
    return report


def _inspect_shape(repository: Repository, head: str | None, token: str | None, progress: ProgressCallback | None,
                   trust_remote_code: bool, index: HeadIndex | None, device: Device | None, tokens: int | None,
                   batch: int, on_headers: HeadersCallback | None) -> InspectReport:
    if repository.gguf is not None:
        return inspect_gguf(repository.gguf.checkpoint, repository.display(), repository.gguf.target.where(),
                            head=head, from_cache=repository.from_cache, tokens=tokens, batch=batch,
                            on_headers=on_headers)
    if repository.resolved is None:
        return inspect_components(repository, token=token, progress=progress)
    adapter = repository.adapter
    notes: list[str] = []
    if adapter is not None:
        notes = read_adapter_weights(repository.ref, adapter, token)
        if head is None and adapter.task_head:
            head = adapter.task_head
    report = inspect_model(repository.resolved, head=head, token=token, progress=progress,
                           trust_remote_code=trust_remote_code, adapter=adapter, index=index, device=device,
                           tokens=tokens, batch=batch,
                           on_headers=on_headers if adapter is None and repository.modules is None else None)
    report.model, report.from_cache = repository.display(), repository.from_cache
    report.notes[:0] = notes
    if adapter is not None and adapter.num_parameters is not None and report.total_parameters:
        adapter.base_share = adapter.num_parameters / report.total_parameters
    if repository.modules is not None:
        chain, tensors, data_bytes = measure_chain(repository, report.total_parameters, report.summary.hidden_size,
                                                   token)
        report.modules, report.embedding_dimension = chain.modules, chain.embedding_dimension
        report.notes.extend(f"module {m.name} ({m.type}): {m.note}" for m in chain.modules if m.note)
        add_module_tensors(report, tensors, data_bytes)
    return report
