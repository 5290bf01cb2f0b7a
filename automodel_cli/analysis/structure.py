"""What `amx diff` compares of a model, and its digest (`structure_digest`) for pinning it in CI.

A model's structure is its repository shape, its config.json (bookkeeping fields left out; a pipeline's
components, their libraries and classes) and, when it
has a checkpoint, the name, shape and dtype of every tensor in it (an adapter's own tensors prefixed
`adapter:`). Weight values are not part of it: a retrained copy has the structure of the original.
Tensors of a model built from its config alone are left out of the digest: they follow from the config
under the installed transformers, and the digest must not change when transformers is upgraded.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from ..formats.tensors import TensorSpec
from ..repository.dispatch import Repository
from .report import InspectReport

# Fields save_pretrained writes about the save itself, not about the model: never a difference.
BOOKKEEPING_FIELDS = frozenset({"transformers_version", "_name_or_path", "_commit_hash"})
ADAPTER_PREFIX = "adapter:"


@dataclass
class Structure:
    kind: str  # the repository shape (dispatch.KINDS)
    config: dict[str, Any]  # config.json as read; {} for a repository without a transformers config
    from_checkpoint: bool  # the tensors are a checkpoint's, not those of the model built from the config
    tensors: list[TensorSpec]


def structure_of(repository: Repository, report: InspectReport) -> Structure:
    """The structure of an inspected repository (`report` is `inspect_repository`'s, before any --filter)."""
    tensors = list(report.parameters)
    if report.adapter is not None:
        tensors += [TensorSpec(ADAPTER_PREFIX + t.name, t.shape, t.dtype) for t in report.adapter.tensors]
    return Structure(repository.kind, _config(repository), report.source != "meta", tensors)


def _config(repository: Repository) -> dict[str, Any]:
    """config.json; for a pipeline, what its model_index.json says of each component (library and class);
    for a component of another library, its class."""
    if repository.resolved is not None:
        return repository.resolved.config.raw
    if repository.pipeline is not None:
        return {"_class_name": repository.pipeline.class_name,
                **{c.name: [c.library, c.class_name] for c in repository.pipeline.components}}
    if repository.component is not None:
        return {"_class_name": repository.component.class_name, "library": repository.component.library}
    return {}


def canonical(value: Any) -> Any:
    """A JSON value in the form equality and the digest use: floats that are whole numbers as ints
    (`1.0` and `1` load alike), objects with sorted keys; true and 1 stay different."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        return repr(value)  # NaN and infinities, which JSON cannot hold
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda item: str(item[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def same_value(a: Any, b: Any) -> bool:
    return json.dumps(canonical(a), sort_keys=True) == json.dumps(canonical(b), sort_keys=True)


def structure_digest(structure: Structure) -> str:
    """`sha256:` + the hash of the structure's canonical JSON: the same on every machine and every run."""
    payload = {
        "kind": structure.kind,
        "config": canonical({k: v for k, v in structure.config.items() if k not in BOOKKEEPING_FIELDS}),
        "tensors": sorted([t.name, list(t.shape), t.dtype] for t in structure.tensors)
        if structure.from_checkpoint else None,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
