"""A quantized checkpoint in `amx inspect`: its stored form beside what loading does on this machine
(knowledge/quantization/loading.py) and the memory the loaded model takes."""

from __future__ import annotations

import re

from ..formats.tensors import DTYPE_BITS, TORCH_TO_SAFETENSORS, TensorSpec
from ..knowledge.quantization.config import QuantizationSpec
from ..knowledge.quantization.loading import (
    DEQUANTIZED,
    QUANTIZED,
    LoadOutcome,
    loading_outcome,
)
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


def _packed_parts(spec: QuantizationSpec, tensors: list[TensorSpec],
                  renamed: dict[str, str] | None = None) -> dict[str, list[TensorSpec]]:
    """Each quantized logical weight -> the stored tensors that make it (itself too, when stored under its
    own name: bitsandbytes' packed `weight`, FP8's); `renamed`: checkpoint name -> the loaded class's
    name (the load prediction's), so that the names are those of the model's parameters."""
    method = method_for(spec.method)
    parts: dict[str, list[TensorSpec]] = {name: [] for name in {method.logical_name(t.name) for t in tensors} - {None}}
    for tensor in tensors:
        owner = parts.get(method.logical_name(tensor.name) or tensor.name)
        if owner is not None:
            owner.append(tensor)
    return {(renamed or {}).get(name, name): group for name, group in parts.items()}


def _stored_bytes(tensors: list[TensorSpec]) -> int:
    return sum((t.numel * DTYPE_BITS.get(t.dtype, 32) + 7) // 8 for t in tensors)


def _bits_per_weight(spec: QuantizationSpec, tensors: list[TensorSpec] | None, meta: MetaModel | None) -> float | None:
    """Stored bits (packed values and their scales) per weight of the quantized weights, from the headers."""
    if tensors is None or meta is None:
        return None
    parts = _packed_parts(spec, tensors)
    stored_bits = sum(t.numel * DTYPE_BITS.get(t.dtype, 32) for group in parts.values() for t in group)
    sizes = {t.name: t.numel for t in meta.parameters}
    weights = sum(sizes.get(name, 0) for name in parts)
    return round(stored_bits / weights, 2) if weights and all(name in sizes for name in parts) else None


def _loaded_bytes(spec: QuantizationSpec, outcome: LoadOutcome, tensors: list[TensorSpec] | None,
                  meta: MetaModel | None, renamed: dict[str, str]) -> int | None:
    """The weights' memory once loaded: dequantized, every parameter in the loaded dtype; kept quantized,
    the stored parts the quantizer's layers hold (method.dropped_when_quantized) plus every other parameter
    in the dtype the quantizer picked. None when amx cannot know."""
    if meta is None or outcome.loaded_dtype is None:
        return None
    element_bits = DTYPE_BITS[TORCH_TO_SAFETENSORS.get(outcome.loaded_dtype, "F32")]
    if outcome.load == DEQUANTIZED:
        return meta.num_parameters * element_bits // 8
    method = method_for(spec.method)
    if outcome.load != QUANTIZED or method.dropped_when_quantized is None or tensors is None:
        return None
    parts = _packed_parts(spec, tensors, renamed)
    parameters = {t.name: t.numel for t in meta.parameters if not t.buffer}
    if not parts or not parts.keys() <= parameters.keys():  # named otherwise than this class's parameters
        return None
    kept = _stored_bytes([t for group in parts.values() for t in group if method.kept_when_quantized(t.name)])
    return kept + sum(numel for name, numel in parameters.items() if name not in parts) * element_bits // 8


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
    """The checkpoint as the load sees it, to predict missing and unexpected weights.

    Dequantized: each packed weight stored under its own name with its own shape (FP8's `weight`) stands
    for itself, its scales are folded into it; MXFP4's blocks become the unpacked weight. Kept quantized
    by a method whose layers amx knows (`dropped_when_quantized`): each packed weight becomes its logical
    name with no shape, which takes the model's own (the quantizer's layer takes the packed tensors as
    they are). None otherwise: a layout whose unpacked shape amx does not derive, a load that fails, a
    quantizer whose layers amx does not know.
    """
    method = method_for(spec.method)
    if outcome.load == QUANTIZED and method.dropped_when_quantized is not None:
        parts = _packed_parts(spec, tensors)
        dtype = TORCH_TO_SAFETENSORS.get(outcome.loaded_dtype or "", "F32")
        return ([t for t in tensors if (method.logical_name(t.name) or t.name) not in parts]
                + [TensorSpec(name, None, dtype) for name in sorted(parts)])
    if outcome.load != DEQUANTIZED:
        return None
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


def unnamed_new_weights(spec: QuantizationSpec | None, outcome: LoadOutcome | None,
                        missing_keys: list[str]) -> str | None:
    """Why the head's missing keys are not predicted though the load is: a quantized load that reports
    newly initialised weights under its quantized layers' parameter names, which amx does not derive."""
    if spec is None or outcome is None or outcome.load != QUANTIZED or not missing_keys:
        return None
    if method_for(spec.method).new_weights_named:
        return None
    return (f"not predicted: {outcome.quantizer} reports newly initialised weights under the names of its "
            f"quantized layers' parameters")


def describe_quantization(spec: QuantizationSpec, outcome: LoadOutcome, tensors: list[TensorSpec] | None,
                          checkpoint_bytes: int | None, meta: MetaModel | None,
                          renamed: dict[str, str] | None = None) -> Quantization:
    """The `quantization` section: stored form, the load outcome here, and the loaded memory when known
    (`renamed`: the load prediction's checkpoint name -> model name, e.g. without the base model prefix)."""
    written = spec.raw.get("quant_method")
    return Quantization(
        method=written if isinstance(written, str) else "bitsandbytes",
        bits=spec.bits,
        checkpoint_bytes=checkpoint_bytes,
        unpacked_parameters=meta.num_parameters if meta is not None else None,
        load=outcome.load,
        loaded_dtype=outcome.loaded_dtype,
        loaded_memory_bytes=_loaded_bytes(spec, outcome, tensors, meta, renamed or {}),
        missing_packages=outcome.missing_packages,
        reason=outcome.reason,
        quantizer=outcome.quantizer,
        unquantized_modules=spec.skipped_modules,
        bits_per_weight=_bits_per_weight(spec, tensors, meta),
        device=outcome.device,
    )
