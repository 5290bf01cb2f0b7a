"""A quantized checkpoint in `amx inspect`: its stored form beside what loading does on this machine
(knowledge/quantization/loading.py) and the memory the loaded model takes."""

from __future__ import annotations

import re

from ..formats.tensors import DTYPE_BITS, TORCH_TO_SAFETENSORS, TensorSpec
from ..knowledge.quantization.config import QuantizationSpec
from ..knowledge.quantization.loading import DEQUANTIZED, LoadOutcome, loading_outcome
from ..knowledge.quantization.machine import Device
from ..knowledge.quantization.methods import method_for
from ..meta.meta_build import MetaModel
from .report import Quantization

_TORCH_NAMES = {stored: torch for torch, stored in TORCH_TO_SAFETENSORS.items()}
_FLOATING = ("F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2")


def _dtype_before_quantizer(raw_config: dict, tensors: list[TensorSpec] | None) -> str | None:
    """What from_pretrained's dtype="auto" picks: config.json's dtype, else the first floating tensor's."""
    for key in ("dtype", "torch_dtype"):
        if isinstance(raw_config.get(key), str):
            return raw_config[key]
    floating = [t for t in sorted(tensors or [], key=lambda t: t.name) if t.dtype in _FLOATING]
    return _TORCH_NAMES.get(floating[0].dtype) if floating else None


def _bits_per_weight(spec: QuantizationSpec, tensors: list[TensorSpec] | None, meta: MetaModel | None) -> float | None:
    """Stored bits (packed values and their scales) per weight of the quantized weights, from the headers."""
    if tensors is None or meta is None:
        return None
    method = method_for(spec.method)
    groups: dict[str, int] = {}
    for tensor in tensors:
        logical = method.logical_name(tensor.name)
        if logical is not None:
            groups[logical] = 0
    stored_bits = 0
    for tensor in tensors:
        logical = method.logical_name(tensor.name) or tensor.name
        if logical in groups:
            stored_bits += tensor.numel * DTYPE_BITS.get(tensor.dtype, 32)
    sizes = {t.name: t.numel for t in meta.parameters}
    weights = sum(sizes.get(name, 0) for name in groups)
    return round(stored_bits / weights, 2) if weights and all(name in sizes for name in groups) else None


def outcome_here(spec: QuantizationSpec, raw_config: dict, tensors: list[TensorSpec] | None,
                 device: Device | None = None) -> LoadOutcome:
    """What from_pretrained does with the checkpoint on this machine, or on `device` (runs the installed
    quantizer's checks)."""
    dtype_name = _dtype_before_quantizer(raw_config, tensors)
    outcome = loading_outcome(spec, dtype_name, device)
    outcome.device = str(device) if device is not None else None
    if dtype_name is None and tensors is None and outcome.load == DEQUANTIZED:
        outcome.loaded_dtype = None  # dtype="auto" takes the checkpoint's float dtype: unknown without it
    return outcome


def as_loaded(spec: QuantizationSpec, outcome: LoadOutcome, tensors: list[TensorSpec]) -> list[TensorSpec] | None:
    """The checkpoint as a dequantizing load sees it, to predict missing and unexpected weights: each
    packed weight stored under its own name with its own shape (FP8's `weight`) stands for itself, its
    scales are folded into it. None when that is not so (a layout whose unpacked shape amx does not
    derive, e.g. MXFP4's blocks) or when the weights stay quantized (the quantizer replaces the layers)."""
    if outcome.load != DEQUANTIZED:
        return None
    method = method_for(spec.method)
    names = {t.name for t in tensors}
    unpacked = []
    if method.unpacked_shape is not None:
        packed, shape_of = method.unpacked_shape
        unpacked = [TensorSpec(method.logical_name(t.name), shape_of(t.shape), t.dtype) for t in tensors
                    if re.search(packed, t.name) and method.logical_name(t.name) not in names]
        if any(t.shape is None for t in unpacked):
            return None
    logical = {method.logical_name(t.name) for t in tensors} - {None}
    if not logical <= names | {t.name for t in unpacked}:
        return None
    return [t for t in tensors if method.logical_name(t.name) is None] + unpacked


def describe_quantization(spec: QuantizationSpec, outcome: LoadOutcome, tensors: list[TensorSpec] | None,
                          checkpoint_bytes: int | None, meta: MetaModel | None) -> Quantization:
    """The `quantization` section: stored form, the load outcome here, and the loaded memory when known."""
    written = spec.raw.get("quant_method")
    loaded_bytes = None
    if outcome.load == DEQUANTIZED and meta is not None and outcome.loaded_dtype is not None:
        loaded_bytes = meta.num_parameters * DTYPE_BITS[TORCH_TO_SAFETENSORS.get(outcome.loaded_dtype, "F32")] // 8
    return Quantization(
        method=written if isinstance(written, str) else "bitsandbytes",
        bits=spec.bits,
        checkpoint_bytes=checkpoint_bytes,
        unpacked_parameters=meta.num_parameters if meta is not None else None,
        load=outcome.load,
        loaded_dtype=outcome.loaded_dtype,
        loaded_memory_bytes=loaded_bytes,
        missing_packages=outcome.missing_packages,
        reason=outcome.reason,
        quantizer=outcome.quantizer,
        unquantized_modules=spec.skipped_modules,
        bits_per_weight=_bits_per_weight(spec, tensors, meta),
        device=outcome.device,
    )
