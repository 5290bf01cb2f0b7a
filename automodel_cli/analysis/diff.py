"""`amx diff A B`: what changed between two models, as data, from what `amx inspect` reads of each.

Config, heads, tensors and totals are compared; weight values never are (they are never read), so a
retrained copy is the same structure. The two models are the same when their structures are
(`structure.py`): no config field differs and no tensor was added, removed, reshaped or retyped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..base.errors import AmxError, UnreadableSideError
from ..formats.tensors import TensorSpec
from ..knowledge.config_summary import config_defaults_for
from ..knowledge.head_index import HeadIndex
from ..repository.dispatch import Repository
from .heads import heads_for_repository
from .inspection import inspect_model
from .report import HeadCheck, InspectReport, ProgressCallback, Quantization
from .repository import inspect_repository
from .structure import BOOKKEEPING_FIELDS, Structure, same_value, structure_of

# ConfigChange.kind: the first three make the models differ.
CHANGED, ONLY_A, ONLY_B, AT_DEFAULT, BOOKKEEPING = "changed", "only_a", "only_b", "default", "bookkeeping"
DIFFERENCES = (CHANGED, ONLY_A, ONLY_B)
_ABSENT = object()
T = TypeVar("T")


@dataclass
class ConfigChange:
    field: str  # dotted path into nested objects: rope_scaling.factor, text_config.hidden_size
    a: Any  # None when absent from A (see kind)
    b: Any
    kind: str  # changed | only_a | only_b | default (absent on one side at its class default) | bookkeeping
    absent: str | None = None  # "a" or "b": the side without the field


@dataclass
class TensorSide:
    shape: tuple[int, ...]
    dtype: str


@dataclass
class TensorChange:
    name: str
    a: TensorSide
    b: TensorSide


@dataclass
class TensorDiff:
    added: list[TensorSpec] = field(default_factory=list)  # in B only
    removed: list[TensorSpec] = field(default_factory=list)  # in A only
    changed: list[TensorChange] = field(default_factory=list)  # reshaped or retyped

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class Pair:
    a: Any
    b: Any


@dataclass
class HeadsDiff:
    added: list[str]  # Auto classes that load B and not A
    removed: list[str]  # ... A and not B
    native: Pair


@dataclass
class DiffReport:
    a: str
    b: str
    same: bool  # same structure and config: `amx diff` exits 0
    kind: Pair  # repository shapes
    source: Pair  # where each side's tensors come from: safetensors, meta (built from the config), gguf
    config: list[ConfigChange]
    heads: HeadsDiff
    tensors: TensorDiff
    parameters: Pair
    dtypes: Pair  # dtype -> elements
    memory_bytes: Pair
    quantization: Pair
    checkpoint_files: Pair
    checkpoint_bytes: Pair
    checkpoint_file_bytes: Pair  # each weight file's size
    checkpoint_file_sha256: Pair  # each weight file's hash, where the Hub lists it
    weights: str  # identical | different (by the listed hashes, every file hashed on both sides) | unknown
    structure_digest: Pair
    load_into: HeadCheck | None = None  # --load-into: the other side's checkpoint loaded into this side's head
    load_into_side: str | None = None  # "a" | "b"
    notes: list[str] = field(default_factory=list)


def on_side(label: str, reference: str, read: Callable[[], T]) -> T:
    """`read()` for one side; its error names the side, and exits 2 (exit 1 means "they differ")."""
    try:
        return read()
    except UnreadableSideError:
        raise
    except AmxError as error:
        raise UnreadableSideError(f"{label} ({reference}): {error.message}", error.hint) from None


class _Defaults:
    """The class defaults of one side's config, looked up (importing transformers) only when a field is absent."""

    def __init__(self, model_type: object):
        self.model_type = model_type if isinstance(model_type, str) else None
        self._values: dict[str, Any] | None = None

    def get(self, name: str) -> Any:
        if self._values is None:
            self._values = config_defaults_for(self.model_type)
        return self._values.get(name, _ABSENT)

    def inside(self, value: dict) -> _Defaults:
        """The defaults of a nested config: its own model_type's, none when it names none."""
        return _Defaults(value.get("model_type"))


def config_changes(a: dict, b: dict, all_fields: bool = False) -> list[ConfigChange]:
    """Every field that differs, nested objects compared field by field. With `all_fields`, also the fields
    absent on one side at that side's class default and the bookkeeping fields (neither is a difference)."""
    changes: list[ConfigChange] = []
    _compare(a, b, "", _Defaults(a.get("model_type")), _Defaults(b.get("model_type")), changes)
    return [c for c in changes if all_fields or c.kind in DIFFERENCES]


def _compare(a: dict, b: dict, prefix: str, defaults_a: _Defaults, defaults_b: _Defaults,
             out: list[ConfigChange]) -> None:
    for key in [*a, *(k for k in b if k not in a)]:
        path = prefix + str(key)
        value_a, value_b = a.get(key, _ABSENT), b.get(key, _ABSENT)
        if isinstance(value_a, dict) and isinstance(value_b, dict):
            _compare(value_a, value_b, path + ".", defaults_a.inside(value_a), defaults_b.inside(value_b), out)
            continue
        if value_a is not _ABSENT and value_b is not _ABSENT:
            if not same_value(value_a, value_b):
                kind = BOOKKEEPING if not prefix and key in BOOKKEEPING_FIELDS else CHANGED
                out.append(ConfigChange(path, value_a, value_b, kind))
            continue
        present, missing_defaults = (value_a, defaults_b) if value_b is _ABSENT else (value_b, defaults_a)
        default = missing_defaults.get(key)
        if not prefix and key in BOOKKEEPING_FIELDS:
            kind = BOOKKEEPING
        elif default is not _ABSENT and same_value(present, default):
            kind = AT_DEFAULT
        else:
            kind = ONLY_A if value_b is _ABSENT else ONLY_B
        out.append(ConfigChange(path, None if value_a is _ABSENT else value_a,
                                None if value_b is _ABSENT else value_b, kind, "b" if value_b is _ABSENT else "a"))


def tensor_diff(a: list[TensorSpec], b: list[TensorSpec]) -> TensorDiff:
    by_name = {t.name: t for t in b}
    names_a = {t.name for t in a}
    diff = TensorDiff(added=[t for t in b if t.name not in names_a])
    for tensor in a:
        other = by_name.get(tensor.name)
        if other is None:
            diff.removed.append(tensor)
        elif other.shape != tensor.shape or other.dtype != tensor.dtype:
            diff.changed.append(TensorChange(tensor.name, TensorSide(tensor.shape, tensor.dtype),
                                             TensorSide(other.shape, other.dtype)))
    return diff


def _heads(repository_a: Repository, repository_b: Repository, index: HeadIndex) -> HeadsDiff:
    a = on_side("A", repository_a.display(), lambda: heads_for_repository(repository_a, index))
    b = on_side("B", repository_b.display(), lambda: heads_for_repository(repository_b, index))
    classes_a, classes_b = [h.auto_class for h in a.heads], [h.auto_class for h in b.heads]
    return HeadsDiff([c for c in classes_b if c not in classes_a], [c for c in classes_a if c not in classes_b],
                     Pair(a.native_head, b.native_head))


def _quantization(report: InspectReport) -> Quantization | str | None:
    if report.gguf is not None:
        return report.gguf.quantization
    return report.quantization


def _pair(a: InspectReport, b: InspectReport, read: Callable[[InspectReport], Any]) -> Pair:
    return Pair(read(a), read(b))


def diff_repositories(repository_a: Repository, repository_b: Repository, index: HeadIndex,
                      token: str | None = None, all_fields: bool = False, load_into: str | None = None,
                      progress: ProgressCallback | None = None) -> DiffReport:
    """Compare two resolved repositories from their configs and checkpoint headers (never their weights).

    `load_into` ("a" or "b") also predicts loading the other side's checkpoint into this side's native head.
    """
    report_a, report_b = (
        on_side(label, repository.display(),
                lambda repository=repository: inspect_repository(repository, token=token, progress=progress,
                                                                 index=index))
        for label, repository in (("A", repository_a), ("B", repository_b)))
    structure_a, structure_b = structure_of(repository_a, report_a), structure_of(repository_b, report_b)
    changes = config_changes(structure_a.config, structure_b.config, all_fields)
    tensors = tensor_diff(structure_a.tensors, structure_b.tensors)
    notes = _notes(structure_a, structure_b)
    same = not notes and tensors.empty and not any(c.kind in DIFFERENCES for c in changes)
    report = DiffReport(
        a=repository_a.display(), b=repository_b.display(), same=same,
        kind=Pair(repository_a.kind, repository_b.kind),
        source=_pair(report_a, report_b, lambda r: r.source),
        config=changes,
        heads=_heads(repository_a, repository_b, index),
        tensors=tensors,
        parameters=_pair(report_a, report_b, lambda r: r.total_parameters),
        dtypes=_pair(report_a, report_b, lambda r: r.dtypes),
        memory_bytes=_pair(report_a, report_b, lambda r: r.memory_bytes),
        quantization=_pair(report_a, report_b, _quantization),
        checkpoint_files=_pair(report_a, report_b, lambda r: r.checkpoint_files),
        checkpoint_bytes=_pair(report_a, report_b, lambda r: r.checkpoint_bytes),
        checkpoint_file_bytes=_pair(report_a, report_b, lambda r: r.checkpoint_file_bytes),
        checkpoint_file_sha256=_pair(report_a, report_b, lambda r: r.checkpoint_file_sha256),
        weights=_weights(report_a, report_b),
        structure_digest=_pair(report_a, report_b, lambda r: r.structure_digest),
        notes=notes,
    )
    if load_into is not None:
        into, other = (repository_a, repository_b) if load_into == "a" else (repository_b, repository_a)
        report.load_into, report.load_into_side = _load_into(into, other, index, token, report.notes), load_into
    return report


def _weights(a: InspectReport, b: InspectReport) -> str:
    """Whether the weight files hold the same bytes, known only when the Hub lists a hash for every one of
    them on both sides (weights are never read, so amx cannot tell otherwise)."""
    hashes = []
    for report in (a, b):
        listed = report.checkpoint_file_sha256 or {}
        if not report.checkpoint_files or any(name not in listed for name in report.checkpoint_files):
            return "unknown"
        hashes.append(sorted(listed.values()))
    return "identical" if hashes[0] == hashes[1] else "different"


def _notes(a: Structure, b: Structure) -> list[str]:
    """Differences of the structures besides config and tensors: each makes the models differ."""
    notes = []
    if a.kind != b.kind:
        notes.append(f"A is a {a.kind} repository, B a {b.kind} one")
    if a.from_checkpoint != b.from_checkpoint:
        without = "A" if b.from_checkpoint else "B"
        notes.append(f"{without} has no safetensors checkpoint: its tensors are those of the model built "
                     "from its config, the other's those of its checkpoint")
    return notes


def _load_into(into: Repository, other: Repository, index: HeadIndex, token: str | None,
               notes: list[str]) -> HeadCheck | None:
    """What `from_pretrained` of `into`'s native head reports for `other`'s checkpoint: the load prediction of
    `inspect`, run with `into`'s config and `other`'s weight files."""
    if into.resolved is None or other.resolved is None:
        notes.append("--load-into needs a transformers model on both sides")
        return None
    crossed = dataclasses.replace(into.resolved, ref=other.resolved.ref)
    try:
        return inspect_model(crossed, token=token, index=index).head
    except AmxError as error:
        notes.append(f"--load-into not predicted: {error.message}")
        return None
