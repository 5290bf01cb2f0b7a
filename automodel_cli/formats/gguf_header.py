"""What a GGUF checkpoint holds, from its header alone: metadata and tensor infos, never tensor data.

A GGUF file (llama.cpp's format) is: magic `GGUF`, a version, a tensor count and a metadata count,
the metadata key/values (typed; strings and arrays, arrays possibly nested), one info per tensor
(name, dimensions, ggml type, offset into the data section), padding to the alignment, then the data.
The header can be several MB (tokenizer vocabularies live in the metadata), so it is read in growing
ranges (a local file or HTTP range requests) until the last tensor info, and never further.

The file is written by a stranger: every count, length, type, dimension and offset is checked against
a cap or against the file size before it is used, and a violation is one BadInputError line naming
the file. Long arrays (a 128k-token vocabulary) are walked, not kept: only their type and length are.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base.errors import BadInputError

MAGIC = b"GGUF"
VERSIONS = (2, 3)  # version 1 counted with 32-bit integers; llama.cpp dropped it in 2023
DEFAULT_ALIGNMENT = 32
# Caps that keep a hostile file within seconds and well under 1 GB; real files stay far below them
# (a 128k-token vocabulary with its merges makes a ~10 MB header; a 405B model has ~1,100 tensors).
MAX_HEADER_BYTES = 256 * 1024 * 1024
MAX_FILE_BYTES = 2**47  # 128 TiB
MAX_METADATA_ENTRIES = 100_000
MAX_TENSORS = 1_000_000
MAX_KEY_BYTES = 65_535  # the GGUF specification's limit on key length
MAX_STRING_BYTES = 16 * 1024 * 1024  # one metadata string (chat templates are ~10-100 KB)
MAX_ARRAY_LENGTH = 16 * 1024 * 1024  # elements in one array
MAX_WALKED_ELEMENTS = 8 * 1024 * 1024  # variable-size array elements walked over the whole header
MAX_ARRAY_DEPTH = 8  # arrays of arrays of ...
MAX_DIMS = 4  # GGML_MAX_DIMS
KEPT_ARRAY_LENGTH = 1024  # longer arrays are kept as (element type, length) only
FIRST_READ = 64 * 1024  # first range; each further one doubles what has been read

# GGUF metadata value types: id -> (name, struct format or None for string/array).
VALUE_TYPES = {
    0: ("UINT8", "<B"), 1: ("INT8", "<b"), 2: ("UINT16", "<H"), 3: ("INT16", "<h"),
    4: ("UINT32", "<I"), 5: ("INT32", "<i"), 6: ("FLOAT32", "<f"), 7: ("BOOL", "<B"),
    8: ("STRING", None), 9: ("ARRAY", None), 10: ("UINT64", "<Q"), 11: ("INT64", "<q"), 12: ("FLOAT64", "<d"),
}
_STRING, _ARRAY, _BOOL = 8, 9, 7
_U64_AT = struct.Struct("<Q").unpack_from

# ggml tensor types: id -> (name, elements per block, bytes per block), as in ggml.h / gguf-py.
GGML_TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40), 10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17), 40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
}
GGML_TYPE_BY_NAME = {name: (block, size) for name, block, size in GGML_TYPES.values()}
FLOAT_TYPES = {"F32", "F16", "BF16", "F64"}  # stored as plain values, not quantized blocks

# general.file_type (llama.cpp's LLAMA_FTYPE_*) -> the quantization name used in file names.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0",
}


@dataclass(frozen=True)
class LongArray:
    """An array too long to keep (a vocabulary, its scores, the merges): its element type and length."""

    element_type: str
    length: int

    def __len__(self) -> int:
        return self.length


@dataclass(frozen=True)
class GgufTensor:
    name: str
    shape: tuple[int, ...]  # in torch order (GGUF stores the fastest-moving dimension first)
    ggml_type: str  # "F16", "Q4_K", ...
    offset: int  # from the start of the data section
    nbytes: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass
class GgufHeader:
    version: int
    metadata: dict[str, Any]  # scalars, str, lists (nested for nested arrays) or LongArray
    tensors: list[GgufTensor]
    alignment: int
    data_start: int  # where the tensor data begins
    file_size: int | None  # None only when neither the file system nor the server said
    bytes_read: int = 0
    value_types: dict[str, str] = field(default_factory=dict)  # key -> GGUF value type name

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    @property
    def data_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)


def _shown(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class _Cursor:
    """Sequential reads over a file fetched in growing ranges, never past the cap or the file's end."""

    def __init__(self, fetch, file_size: int | None, where: str, first_read: int):
        self.fetch, self.file_size, self.where = fetch, file_size, where
        self.buffer = bytearray()
        self.pos = 0
        self.bytes_read = 0
        self.next_read = first_read

    def _grow(self, end: int, what: str) -> None:
        if end > MAX_HEADER_BYTES:
            raise BadInputError(f"{self.where}: the GGUF header is larger than {MAX_HEADER_BYTES:,} bytes "
                                f"(reading {what} at byte {self.pos:,}); amx refuses it")
        while len(self.buffer) < end:
            if self.file_size is not None and end > self.file_size:
                raise BadInputError(f"{self.where}: the file ends inside its GGUF header ({what} at byte "
                                    f"{self.pos:,} needs {end - self.pos:,} bytes, the file has {self.file_size:,})")
            start = len(self.buffer)
            stop = min(max(end, start + self.next_read), MAX_HEADER_BYTES)
            if self.file_size is not None:
                stop = min(stop, self.file_size)
            data, size = self.fetch(start, stop)
            if size is not None:
                self._set_size(size)
            self.bytes_read += len(data)
            self.buffer += data[: stop - start]
            self.next_read = max(self.next_read, len(self.buffer))
            if len(data) < stop - start:  # short read: the file ends here
                self._set_size(len(self.buffer))

    def _set_size(self, size: int) -> None:
        if size > MAX_FILE_BYTES:
            raise BadInputError(f"{self.where}: {size:,} bytes is larger than any real checkpoint "
                                f"(limit {MAX_FILE_BYTES:,}); amx refuses it")
        self.file_size = size

    def skip(self, n: int, what: str) -> None:
        end = self.pos + n
        if end > len(self.buffer):
            self._grow(end, what)
        self.pos = end

    def take(self, n: int, what: str) -> bytes:
        start = self.pos
        self.skip(n, what)
        return bytes(self.buffer[start : self.pos])

    def unpack(self, fmt: str, what: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def remaining_cap(self) -> int:
        """Bytes the header may still span: an upper bound on any count of non-empty items."""
        limit = MAX_HEADER_BYTES if self.file_size is None else min(MAX_HEADER_BYTES, self.file_size)
        return max(0, limit - self.pos)


class _Parser:
    def __init__(self, cursor: _Cursor):
        self.cursor = cursor
        self.where = cursor.where
        self.walked = 0

    def fail(self, problem: str) -> BadInputError:
        return BadInputError(f"{self.where}: {problem}")

    def count(self, value: int, limit: int, what: str, min_item_bytes: int) -> int:
        """A count from the file: within its cap, and small enough for the bytes that can still follow."""
        if value > limit:
            raise self.fail(f"{what} is {value:,} (amx allows at most {limit:,})")
        remaining = self.cursor.remaining_cap()
        if min_item_bytes and value > remaining // min_item_bytes:
            raise self.fail(f"the file ends inside its GGUF header ({what} is {value:,}, more than the "
                            f"{remaining:,} bytes left could hold)")
        return value

    def string(self, what: str, limit: int = MAX_STRING_BYTES, keep: bool = True) -> str | None:
        length = self.count(self.cursor.unpack("<Q", what), limit, f"the length of {what}", 1)
        if not keep:
            self.cursor.skip(length, what)
            return None
        raw = self.cursor.take(length, what)
        try:
            return str(raw, "utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not valid UTF-8") from None

    def value_type(self, what: str) -> int:
        type_id = self.cursor.unpack("<I", what)
        if type_id not in VALUE_TYPES:
            raise self.fail(f"{what} has unknown value type {type_id}")
        return type_id

    def value(self, type_id: int, what: str, depth: int = 0, keep: bool = True) -> Any:
        if type_id == _STRING:
            return self.string(what, keep=keep)
        if type_id == _ARRAY:
            return self.array(what, depth + 1, keep)
        value = self.cursor.unpack(VALUE_TYPES[type_id][1], what)
        if type_id == _BOOL:
            if value > 1:
                raise self.fail(f"{what} is a bool of value {value} (only 0 and 1 are allowed)")
            return bool(value)
        return value

    def array(self, what: str, depth: int, keep: bool) -> Any:
        if depth > MAX_ARRAY_DEPTH:
            raise self.fail(f"{what} nests arrays more than {MAX_ARRAY_DEPTH} deep")
        element_type = self.value_type(f"the element type of {what}")
        fmt = VALUE_TYPES[element_type][1]
        width = struct.calcsize(fmt) if fmt else 8 if element_type == _STRING else 12
        length = self.count(self.cursor.unpack("<Q", what), MAX_ARRAY_LENGTH, f"the length of {what}", width)
        keep = keep and length <= KEPT_ARRAY_LENGTH
        if fmt is not None:  # fixed width: kept values are unpacked at once, long ones skipped over
            if not keep:
                self.cursor.skip(length * width, what)
                return LongArray(VALUE_TYPES[element_type][0], length)
            values = list(struct.unpack(f"<{length}{fmt[1]}", self.cursor.take(length * width, what)))
            if element_type == _BOOL:
                if any(v > 1 for v in values):
                    raise self.fail(f"{what} holds a bool that is neither 0 nor 1")
                values = [bool(v) for v in values]
            return values
        self.walked += length
        if self.walked > MAX_WALKED_ELEMENTS:
            raise self.fail(f"the metadata arrays hold more than {MAX_WALKED_ELEMENTS:,} strings and arrays; "
                            "amx refuses it")
        if element_type == _STRING and not keep:
            self.skip_strings(length, what)
            return LongArray("STRING", length)
        values = [self.value(element_type, what, depth, keep) for _ in range(length)]
        return values if keep else LongArray(VALUE_TYPES[element_type][0], length)

    def skip_strings(self, count: int, what: str) -> None:
        """Walk over `count` strings without decoding them: a vocabulary of 128k tokens in ~0.1 s."""
        cursor, unpack_length = self.cursor, _U64_AT
        buffer, pos = cursor.buffer, cursor.pos
        for _ in range(count):
            if pos + 8 > len(buffer):
                cursor.pos = pos
                cursor.skip(8, what)  # fetches more of the file, or fails at its end
            (length,) = unpack_length(buffer, pos)
            if length > MAX_STRING_BYTES:
                cursor.pos = pos
                raise self.fail(f"a string of {what} is {length:,} bytes long (amx allows at most "
                                f"{MAX_STRING_BYTES:,})")
            pos += 8 + length
        cursor.pos = min(pos, len(buffer))
        cursor.skip(pos - cursor.pos, what)

    def tensor(self, index: int) -> tuple[str, tuple[int, ...], str, int, int]:
        what = f"tensor info #{index}"
        name = self.string(f"the name of {what}", limit=MAX_KEY_BYTES)
        what = f"tensor {_shown(name)}"
        n_dims = self.cursor.unpack("<I", f"the dimension count of {what}")
        if not 1 <= n_dims <= MAX_DIMS:
            raise self.fail(f"{what} has {n_dims} dimensions (GGUF allows 1 to {MAX_DIMS})")
        dims = struct.unpack(f"<{n_dims}Q", self.cursor.take(8 * n_dims, f"the dimensions of {what}"))
        numel = 1
        for dim in dims:
            numel *= dim
            if dim >= 2**63 or numel >= 2**63:
                raise self.fail(f"{what}: dimensions {list(dims)} have more than 2**63 elements")
        type_id = self.cursor.unpack("<I", f"the type of {what}")
        if type_id not in GGML_TYPES:
            raise self.fail(f"{what} has unknown ggml type {type_id}")
        type_name, block, block_bytes = GGML_TYPES[type_id]
        if dims[0] % block:
            raise self.fail(f"{what}: its first dimension {dims[0]:,} is not a multiple of the {type_name} "
                            f"block size {block}")
        offset = self.cursor.unpack("<Q", f"the offset of {what}")
        return name, tuple(reversed(dims)), type_name, offset, numel // block * block_bytes


def _alignment(metadata: dict[str, Any], value_types: dict[str, str], where: str) -> int:
    if "general.alignment" not in metadata:
        return DEFAULT_ALIGNMENT
    alignment = metadata["general.alignment"]
    if value_types["general.alignment"] != "UINT32" or alignment <= 0 or alignment & (alignment - 1):
        raise BadInputError(f"{where}: general.alignment must be a power of two (UINT32), found "
                            f"{_shown(str(alignment))} ({value_types['general.alignment']})")
    return alignment


def _check_data(tensors: list[GgufTensor], alignment: int, data_start: int, file_size: int | None,
                where: str) -> None:
    """Offsets aligned, tensors apart from each other and inside the file."""
    end_of_previous, previous = 0, ""
    for tensor in sorted(tensors, key=lambda t: t.offset):
        if tensor.offset % alignment:
            raise BadInputError(f"{where}: tensor {_shown(tensor.name)} starts at offset {tensor.offset:,}, "
                                f"not a multiple of the alignment {alignment}")
        if tensor.offset < end_of_previous:
            raise BadInputError(f"{where}: tensor {_shown(tensor.name)} overlaps {_shown(previous)}")
        end_of_previous, previous = tensor.offset + tensor.nbytes, tensor.name
    if file_size is not None and data_start + end_of_previous > file_size:
        raise BadInputError(f"{where}: tensor data runs past the end of the file (tensor {_shown(previous)} "
                            f"ends at byte {data_start + end_of_previous:,}, the file has {file_size:,})")


def read_gguf_header(fetch, *, file_size: int | None, where: str, first_read: int = FIRST_READ) -> GgufHeader:
    """Read and validate a GGUF header through `fetch(start, end) -> (bytes, file size or None)`.

    Reads start with `first_read` bytes and double until the last tensor info; tensor data is never read.
    """
    cursor = _Cursor(fetch, file_size, where, first_read)
    if file_size is not None:
        cursor._set_size(file_size)
    parser = _Parser(cursor)
    magic = cursor.take(4, "the magic") if file_size is None or file_size >= 4 else b""
    if magic != MAGIC:
        raise BadInputError(f"{where}: not a GGUF file (it does not start with the bytes 'GGUF')")
    version = cursor.unpack("<I", "the version")
    if version not in VERSIONS:
        swapped = int.from_bytes(version.to_bytes(4, "little"), "big")
        why = " (a big-endian file, which amx does not read)" if swapped in VERSIONS else ""
        raise BadInputError(f"{where}: GGUF version {version}{why} is not supported (versions 2 and 3 are)")
    tensor_count = parser.count(cursor.unpack("<Q", "the tensor count"), MAX_TENSORS, "the tensor count", 24)
    entry_count = parser.count(cursor.unpack("<Q", "the metadata count"), MAX_METADATA_ENTRIES,
                               "the metadata count", 13)

    metadata: dict[str, Any] = {}
    value_types: dict[str, str] = {}
    for index in range(entry_count):
        key = parser.string(f"metadata key #{index}", limit=MAX_KEY_BYTES)
        if key in metadata:
            raise BadInputError(f"{where}: metadata key {_shown(key)} appears twice")
        type_id = parser.value_type(f"metadata {_shown(key)}")
        metadata[key] = parser.value(type_id, f"metadata {_shown(key)}")
        value_types[key] = VALUE_TYPES[type_id][0]
    alignment = _alignment(metadata, value_types, where)

    tensors: list[GgufTensor] = []
    names: set[str] = set()
    for index in range(tensor_count):
        name, shape, ggml_type, offset, nbytes = parser.tensor(index)
        if name in names:
            raise BadInputError(f"{where}: tensor {_shown(name)} appears twice")
        names.add(name)
        tensors.append(GgufTensor(name, shape, ggml_type, offset, nbytes))
    data_start = -(-cursor.pos // alignment) * alignment
    _check_data(tensors, alignment, data_start, cursor.file_size, where)
    return GgufHeader(version, metadata, tensors, alignment, data_start, cursor.file_size, cursor.bytes_read,
                      value_types)


def local_fetch(path: Path, where: str):
    """A `fetch` over a local regular file."""

    def read(start: int, end: int) -> tuple[bytes, int | None]:
        try:
            with open(path, "rb") as handle:
                handle.seek(start)
                return handle.read(end - start), None
        except OSError as error:
            raise BadInputError(f"{where}: cannot read: {error.strerror or error}") from None

    return read


def read_gguf_file(path: Path) -> GgufHeader:
    """The header of a local GGUF file."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise BadInputError(f"{path}: cannot read: {error.strerror or error}") from None
    return read_gguf_header(local_fetch(path, str(path)), file_size=size, where=str(path))
