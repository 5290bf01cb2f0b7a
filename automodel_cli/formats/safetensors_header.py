"""What a checkpoint holds, from its safetensors headers alone: never tensor data, never a pickle.

A safetensors file is an 8-byte little-endian header length, a JSON header naming every tensor's
dtype, shape and byte range, then the raw data. Reading the first two parts answers "which tensors,
what shapes, how big" for a 400B-parameter model in a few hundred kilobytes. Headers are written by
strangers, so every rule safetensors itself enforces is checked here and each violation becomes one
BadInputError line naming the file; reading is bounded by the 100 MB header cap.

`read_headers` finds the weight files (checkpoint_files.py: a local directory, the Hub through
`hub.py`, or the HF cache) and reads many shards at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field

from ..base.errors import BadInputError
from ..base.json_input import parse_json_object
from ..files.checkpoint_files import (
    CheckpointFiles,
    Fetch,
    open_checkpoint,
    weight_files,
)
from ..files.reference import ModelRef
from .tensors import DTYPE_BITS, TensorSpec

MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit
MAX_INDEX_BYTES = 100_000_000
# Bounds that keep a hostile checkpoint under ~1 GB of memory; real ones stay far below them
# (a 400B-parameter model has ~1,200 tensors in all).
MAX_TENSORS = 1_000_000  # per checkpoint
BIG_HEADER_BYTES = 1_000_000  # headers above this are parsed one at a time, not 16 at once
_BIG_PARSE = threading.Lock()
MAX_WORKERS = 16
_U64 = 2**64


@dataclass(frozen=True)
class TensorHeader:
    name: str
    dtype: str  # safetensors dtype string as in the header: "F32", "BF16", "F8_E4M3", ...
    shape: tuple[int, ...]
    file: str  # shard file name relative to the model root
    nbytes: int  # data_offsets[1] - data_offsets[0]


@dataclass
class CheckpointHeaders:
    format: str  # "safetensors" | "pickle" (weights never unpickled) | "none" (no weight files)
    files: list[str]  # weight files (shards) relative to the model root
    tensors: list[TensorHeader] = field(default_factory=list)  # empty unless format == "safetensors"
    total_bytes: int = 0  # sum of the weight files' sizes
    file_sizes: dict[str, int] = field(default_factory=dict)  # each weight file's size, when known
    file_sha256: dict[str, str] = field(default_factory=dict)  # each weight file's hash, when the Hub lists it
    metadata: dict[str, str] = field(default_factory=dict)  # "__metadata__" of the first shard
    bytes_read: int = 0  # bytes actually read from files or over HTTP


@dataclass(frozen=True)
class ShardHeader:
    tensors: list[TensorHeader]
    metadata: dict[str, str]
    file_size: int  # as measured, or as the header implies when the server did not say
    bytes_read: int


def _shown(name: str, limit: int = 80) -> str:
    """A name from a file, quoted on one line and cut to a readable length."""
    return repr(name if len(name) <= limit else name[: limit - 3] + "...")


def header_length(prefix: bytes, file_size: int | None, where: str) -> int:
    """The header length from the first 8 bytes, checked against the cap and the file size."""
    if len(prefix) < 8:
        raise BadInputError(f"{where}: {len(prefix)} bytes is too short for a safetensors file")
    n = int.from_bytes(prefix[:8], "little")
    if n > MAX_HEADER_BYTES:
        raise BadInputError(f"{where}: header length field says {n:,} bytes (safetensors allows {MAX_HEADER_BYTES:,})")
    if file_size is not None and 8 + n > file_size:
        raise BadInputError(f"{where}: header length field says {n:,} bytes but the file has only {file_size:,}")
    return n


def _is_u64(value: object) -> bool:
    return type(value) is int and 0 <= value < _U64


def _tensor(name: str, entry: object, file: str, where: str) -> tuple[int, int, TensorHeader]:
    """Validate one header entry; returns (start, end, header)."""
    tensor = f"{where}: tensor {_shown(name)}"
    if not isinstance(entry, dict):
        raise BadInputError(f"{tensor} must be an object with dtype, shape and data_offsets")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str):
        raise BadInputError(f"{tensor} has no dtype string")
    if dtype not in DTYPE_BITS:
        raise BadInputError(f"{tensor} has unknown dtype {_shown(dtype, 20)}")
    if not isinstance(shape, list) or not all(_is_u64(d) for d in shape):
        raise BadInputError(f"{tensor}: shape must be a list of non-negative integers")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_u64(o) for o in offsets):
        raise BadInputError(f"{tensor}: data_offsets must be two non-negative integers")
    start, end = offsets
    if end < start:
        raise BadInputError(f"{tensor}: data_offsets [{start}, {end}] end before they start")
    numel = 1
    for dim in shape:
        numel *= dim
        if numel >= _U64:
            raise BadInputError(f"{tensor}: shape has more than 2**64 elements")
    bits = numel * DTYPE_BITS[dtype]
    if bits % 8:
        raise BadInputError(f"{tensor}: {numel} {dtype} elements do not fill a whole number of bytes")
    if end - start != bits // 8:
        raise BadInputError(
            f"{tensor}: {dtype} {shape} needs {bits // 8:,} bytes but data_offsets span {end - start:,}"
        )
    return start, end, TensorHeader(name, dtype, tuple(shape), file, end - start)


def parse_header(
    header: bytes, *, file: str, file_size: int | None, where: str
) -> tuple[list[TensorHeader], dict[str, str], int]:
    """Validate a header as safetensors does; returns (tensors in file order, metadata, data length).

    The tensors' byte ranges must tile the data area exactly: no overlap, no gap, nothing past the end
    of the file and nothing after the last tensor (when `file_size` is known).
    """
    data = parse_json_object(header, where, "header", strict=True)
    metadata = data.pop("__metadata__", None)
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise BadInputError(f"{where}: __metadata__ must map strings to strings")
    entries = sorted((_tensor(name, entry, file, where) for name, entry in data.items()), key=lambda t: t[:2])
    position, previous = 0, ""
    for start, end, tensor in entries:
        if start < position:
            raise BadInputError(f"{where}: tensor {_shown(tensor.name)} overlaps {_shown(previous)}")
        if start > position:
            raise BadInputError(f"{where}: {start - position:,} bytes before tensor {_shown(tensor.name)} "
                                "belong to no tensor")
        position, previous = end, tensor.name
    available = None if file_size is None else file_size - 8 - len(header)
    if available is not None and position > available:
        raise BadInputError(f"{where}: tensor data runs past the end of the file "
                            f"({position:,} bytes declared, {available:,} present)")
    if available is not None and position < available:
        raise BadInputError(f"{where}: {available - position:,} bytes after the last tensor belong to no tensor")
    return [tensor for _, _, tensor in entries], metadata, position


def tensor_specs(tensors: list[TensorHeader]) -> list[TensorSpec]:
    """A header's tensors as the other layers read them (name, shape, dtype)."""
    return [TensorSpec(t.name, tuple(t.shape), t.dtype) for t in tensors]


def read_shard(fetch: Fetch, *, file: str, file_size: int | None, where: str, guess: int = 8) -> ShardHeader:
    """Read and validate one shard's header with at most two reads: `guess` bytes, then the rest."""
    first, size = fetch(0, guess if file_size is None else max(8, min(guess, file_size)))
    file_size = size if size is not None else file_size
    n = header_length(first, file_size, where)
    raw, bytes_read = first[8 : 8 + n], len(first)
    if len(raw) < n:
        rest, size = fetch(len(first), 8 + n)
        file_size = size if size is not None else file_size
        raw += rest
        bytes_read += len(rest)
        if len(raw) < n:
            raise BadInputError(f"{where}: the file ended inside its {n:,}-byte header")
    with _BIG_PARSE if n > BIG_HEADER_BYTES else nullcontext():
        tensors, metadata, data_length = parse_header(raw, file=file, file_size=file_size, where=where)
    return ShardHeader(tensors, metadata, file_size if file_size is not None else 8 + n + data_length, bytes_read)


def check_relative_path(name: object, where: str) -> str:
    """A file name from an index must stay inside the repository: relative, no '..', no drive."""
    if not isinstance(name, str) or not name:
        raise BadInputError(f"{where}: a shard name must be a non-empty string")
    if "\\" in name or "\0" in name or ":" in name or any(part in ("", ".", "..") for part in name.split("/")):
        raise BadInputError(f"{where}: shard {_shown(name)} points outside the repository")
    return name


def parse_index(raw: bytes, where: str) -> dict[str, list[str]]:
    """A `*.index.json` weight map -> {shard: [tensor names]}, every shard name checked."""
    data = parse_json_object(raw, where, "index", strict=True)
    weight_map = data.get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise BadInputError(f"{where}: weight_map must be a non-empty object of tensor name -> shard file")
    shards: dict[str, list[str]] = {}
    for tensor, shard in weight_map.items():
        shards.setdefault(check_relative_path(shard, where), []).append(tensor)
    return dict(sorted(shards.items()))


def _read_index(files: CheckpointFiles, index: str) -> tuple[dict[str, list[str]], int]:
    """The shards an index names (each present in the checkpoint) and the bytes read."""
    where = files.where(index)
    size = files.size(index)
    if size is not None and size > MAX_INDEX_BYTES:
        raise BadInputError(f"{where}: {size:,} bytes is too large for an index (limit {MAX_INDEX_BYTES:,})")
    raw, _ = files.fetch(index)(0, MAX_INDEX_BYTES + 1)
    if len(raw) > MAX_INDEX_BYTES:
        raise BadInputError(f"{where}: too large for an index (limit {MAX_INDEX_BYTES:,} bytes)")
    shards = parse_index(raw, where)
    for shard in shards:
        if not files.has(shard):
            raise files.missing(shard, f"{where}: names shard {_shown(shard)}, which is not in the checkpoint")
    return shards, len(raw)


def _read_shards(files: CheckpointFiles, shards: dict[str, list[str] | None],
                 progress: Callable[[int, int], None] | None) -> list[ShardHeader]:
    """Every shard's header, read concurrently; `progress(done, total)` is called from this thread."""

    def one(name: str) -> ShardHeader:
        return read_shard(files.fetch(name), file=name, file_size=files.size(name), where=files.where(name),
                          guess=files.guess(shards[name]))

    results: dict[str, ShardHeader] = {}
    total, tensors = len(shards), 0
    if progress:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, total))) as pool:
        futures = {pool.submit(one, name): name for name in shards}
        try:
            for done, future in enumerate(as_completed(futures), 1):
                name = futures[future]
                results[name] = future.result()
                tensors += len(results[name].tensors)
                if tensors > MAX_TENSORS:
                    raise BadInputError(f"{files.where(name)}: the checkpoint lists more than {MAX_TENSORS:,} "
                                        "tensors; amx refuses it")
                if progress:
                    progress(done, total)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return [results[name] for name in shards]


def _listed_hashes(files: CheckpointFiles, names: Iterable[str]) -> dict[str, str]:
    return {name: digest for name in names if (digest := files.sha256(name)) is not None}


def read_headers(ref: ModelRef, token: str | None = None,
                 progress: Callable[[int, int], None] | None = None) -> CheckpointHeaders:
    """The tensors of a model's checkpoint from its safetensors headers (no tensor data, no unpickling).

    Hub models cost one listing request plus one or two small range requests per shard.
    """
    files = open_checkpoint(ref, token)
    fmt, index, names = weight_files(files)
    bytes_read = 0
    shards: dict[str, list[str] | None] = {name: None for name in names}
    if index is not None:
        shards, bytes_read = _read_index(files, index)
    if fmt != "safetensors":
        sizes = [files.size(name, ask=True) for name in shards]
        return CheckpointHeaders(fmt, list(shards), total_bytes=sum(s or 0 for s in sizes), bytes_read=bytes_read,
                                 file_sizes={name: size for name, size in zip(shards, sizes) if size is not None},
                                 file_sha256=_listed_hashes(files, shards))

    headers = _read_shards(files, shards, progress)
    tensors: list[TensorHeader] = []
    seen: dict[str, str] = {}
    for header in headers:
        for tensor in header.tensors:
            if tensor.name in seen:
                raise BadInputError(
                    f"{files.where(tensor.file)}: tensor {_shown(tensor.name)} is also in {seen[tensor.name]}")
            seen[tensor.name] = tensor.file
        tensors.extend(header.tensors)
    return CheckpointHeaders(
        "safetensors", list(shards), tensors,
        total_bytes=sum(h.file_size for h in headers),
        file_sizes={name: h.file_size for name, h in zip(shards, headers)},
        file_sha256=_listed_hashes(files, shards),
        metadata=headers[0].metadata,
        bytes_read=bytes_read + sum(h.bytes_read for h in headers),
    )
