"""GGUF checkpoints of a model: which files there are, which one to read, and its header.

A GGUF repository usually holds one file per quantization (`name-Q4_K_M.gguf`, `name-Q8_0.gguf`) and
no config.json; a large model's file may be split (`name-Q8_0-00001-of-00003.gguf`), and the parts are
one checkpoint. The files are read through `checkpoint_files` (a local folder, or the Hub with HTTP
range requests), header only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..base.errors import BadInputError, ModelNotFoundError
from ..base.units import human_bytes
from ..files.checkpoint_files import CheckpointFiles
from .gguf_header import FILE_TYPES, GgufHeader, GgufTensor, read_gguf_header

GGUF_SUFFIX = ".gguf"
_SPLIT = re.compile(r"(?P<stem>.+)-(?P<part>\d{5})-of-(?P<total>\d{5})\.gguf", re.IGNORECASE)
# Quantization names as they appear in file names, longest first so Q4_K_M wins over Q4_K.
_NAMED_QUANTS = sorted({*FILE_TYPES.values(), "Q4_K", "Q5_K", "Q3_K", "MXFP4"}, key=len, reverse=True)
MAX_LISTED = 12


@dataclass(frozen=True)
class GgufChoice:
    """One GGUF checkpoint: a single file or the parts of a split one."""

    name: str  # the file name, or the first part's for a split checkpoint
    parts: tuple[str, ...]
    size: int | None  # bytes of all parts, when known
    quantization: str | None  # from the file name


@dataclass
class GgufCheckpoint:
    choice: GgufChoice
    header: GgufHeader  # the first part's metadata, every part's tensors
    file_sizes: list[int | None]
    bytes_read: int  # bytes read from files or over HTTP, for every part


def is_gguf(name: str) -> bool:
    return name.lower().endswith(GGUF_SUFFIX)


def is_gguf_file_name(name: str) -> bool:
    """A .gguf file name inside a model (`--gguf-file`, `gguf-file =`): relative, no '..', no backslash."""
    return (is_gguf(name) and not name.startswith("/") and "\\" not in name and "\0" not in name
            and all(part not in ("", ".", "..") for part in name.split("/")))


def quantization_from_name(name: str) -> str | None:
    """`Llama-3-8B-Q4_K_M.gguf` -> 'Q4_K_M'; None when the name carries no known quantization."""
    stem = _SPLIT.sub(r"\g<stem>", name.rpartition("/")[2])
    stem = stem[: -len(GGUF_SUFFIX)] if is_gguf(stem) else stem
    upper = stem.upper()
    for quant in _NAMED_QUANTS:
        if re.search(rf"(?<![A-Z0-9]){re.escape(quant)}(?![A-Z0-9])", upper):
            return quant
    return None


def gguf_choices(names: list[str], size) -> list[GgufChoice]:
    """The GGUF checkpoints among `names` (split parts grouped), sorted by name; `size(name)` may be None."""
    groups: dict[str, list[str]] = {}
    for name in sorted(n for n in names if is_gguf(n)):
        split = _SPLIT.fullmatch(name)
        key = f"{split['stem']}-of-{split['total']}" if split else name
        groups.setdefault(key, []).append(name)
    choices = []
    for parts in groups.values():
        sizes = [size(part) for part in parts]
        total = None if any(s is None for s in sizes) else sum(sizes)
        choices.append(GgufChoice(parts[0], tuple(parts), total, quantization_from_name(parts[0])))
    return choices


def _listing(choices: list[GgufChoice]) -> str:
    shown = [f"{c.name} ({c.quantization or '?'}, {human_bytes(c.size)}"
             + (f", {len(c.parts)} parts)" if len(c.parts) > 1 else ")") for c in choices[:MAX_LISTED]]
    more = f", +{len(choices) - MAX_LISTED} more" if len(choices) > MAX_LISTED else ""
    return ", ".join(shown) + more


def choose_gguf(files: CheckpointFiles, wanted: str | None, where: str) -> GgufChoice:
    """The checkpoint `--gguf-file` names, or the only one; several without a choice is bad input."""
    names = list(files.root_files())
    if wanted is not None:
        if not is_gguf(wanted):
            raise BadInputError(f"--gguf-file {wanted!r} is not a .gguf file name")
        if files.has(wanted) and wanted not in names:
            names.append(wanted)  # a file in a subfolder
    choices = gguf_choices(names, files.size)
    if wanted is not None:
        for choice in choices:
            if wanted in choice.parts:
                return choice
        raise ModelNotFoundError(f"{where} has no GGUF file {wanted!r}",
                                 hint=f"GGUF files: {_listing(choices)}" if choices else "it holds no GGUF file")
    if not choices:
        raise ModelNotFoundError(f"{where} holds no GGUF file")
    if len(choices) > 1:
        raise BadInputError(f"{where} holds {len(choices)} GGUF checkpoints: {_listing(choices)}",
                            hint="choose one with --gguf-file NAME (gguf-file = \"NAME\" in an amx check manifest)")
    return choices[0]


def read_gguf_checkpoint(files: CheckpointFiles, choice: GgufChoice) -> GgufCheckpoint:
    """Every part's header (never tensor data); the tensors of all parts together."""
    headers, sizes = [], []
    for part in choice.parts:
        size = files.size(part, ask=True)
        header = read_gguf_header(files.fetch(part), file_size=size, where=files.where(part))
        headers.append(header)
        sizes.append(header.file_size)
    first = headers[0]
    count = first.metadata.get("split.count")
    if isinstance(count, int) and count != len(choice.parts):
        raise BadInputError(f"{files.where(choice.name)}: a split checkpoint of {count} parts, "
                            f"but {len(choice.parts)} are present")
    tensors: list[GgufTensor] = []
    seen: dict[str, str] = {}
    for part, header in zip(choice.parts, headers):
        for tensor in header.tensors:
            if tensor.name in seen:
                raise BadInputError(f"{files.where(part)}: tensor {tensor.name!r} is also in {seen[tensor.name]}")
            seen[tensor.name] = part
        tensors.extend(header.tensors)
    declared = first.metadata.get("split.tensors.count")
    if isinstance(declared, int) and len(choice.parts) > 1 and declared != len(tensors):
        raise BadInputError(f"{files.where(choice.name)}: the split checkpoint declares {declared:,} tensors, "
                            f"its parts hold {len(tensors):,}")
    merged = GgufHeader(first.version, first.metadata, tensors, first.alignment, first.data_start,
                        first.file_size, sum(h.bytes_read for h in headers), first.value_types)
    return GgufCheckpoint(choice, merged, sizes, merged.bytes_read)
