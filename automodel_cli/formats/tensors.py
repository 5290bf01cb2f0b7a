"""The tensor as every layer sees it: a name, a shape and a dtype in safetensors' spelling, from a checkpoint
header or a model built on the meta device alike; with the sizes of the dtypes and the memory they take."""

from __future__ import annotations

from dataclasses import dataclass

# torch dtype name -> safetensors dtype name, so meta-built and checkpoint tensors read alike.
TORCH_TO_SAFETENSORS = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL",
    "float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2", "complex64": "C64",
}


@dataclass(frozen=True)
class TensorSpec:
    """One tensor of a model or checkpoint. Buffers (position_ids, inv_freq, ...) are listed, never counted."""

    name: str
    shape: tuple[int, ...]
    dtype: str  # safetensors spelling: F32, BF16, I64, ...
    buffer: bool = False

    @property
    def numel(self) -> int:
        count = 1
        for size in self.shape:
            count *= size
        return count


def dtype_name(dtype) -> str:
    name = str(dtype).removeprefix("torch.")
    return TORCH_TO_SAFETENSORS.get(name, name.upper())


# Bits per element of every dtype safetensors 0.8 accepts.
DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32,
    "I64": 64, "U64": 64, "F64": 64, "C64": 64,
}


def memory_for(parameters: int, checkpoint_bytes: int) -> dict[str, int]:
    return {
        "float32": parameters * 4,
        "bfloat16": parameters * 2,
        "float16": parameters * 2,
        "int8": parameters,
        "int4": (parameters + 1) // 2,
        "checkpoint": checkpoint_bytes,
    }


def main_dtype(tensors: list[TensorSpec]) -> str:
    """The dtype holding most of the parameters' bytes."""
    by_dtype: dict[str, int] = {}
    for tensor in tensors:
        if not tensor.buffer:
            by_dtype[tensor.dtype] = by_dtype.get(tensor.dtype, 0) + tensor.numel * DTYPE_BITS.get(tensor.dtype, 32)
    return max(by_dtype, key=by_dtype.__getitem__) if by_dtype else "F32"


def elements_by_dtype(tensors: list[TensorSpec]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for tensor in tensors:
        counts[tensor.dtype] = counts.get(tensor.dtype, 0) + tensor.numel
    return counts
