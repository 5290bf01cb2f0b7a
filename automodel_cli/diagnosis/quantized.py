"""Doctor's findings for a quantized checkpoint, from what loading does on this machine
(the `quantization` section of the inspection)."""

from __future__ import annotations

from ..analysis.report import Quantization
from ..base.units import human_bytes
from ..knowledge import findings as f
from ..knowledge.findings import Finding
from ..knowledge.quantization.loading import DEQUANTIZED, FAILS
from ..knowledge.quantization.supported import supported_methods


def quantization_findings(quantization: Quantization | None, estimated_bytes: int | None = None) -> list[Finding]:
    """A failing load is an error naming what to install; a dequantizing one warns with its memory, beside
    the stored bytes (`estimated_bytes` from the config when there are no weights to measure)."""
    if quantization is None or quantization.load is None:
        return []
    if quantization.load == FAILS and quantization.quantizer is None:
        return [f.unknown_quant_method(quantization.method, list(supported_methods()))]
    where = quantization.device or "this machine"
    if quantization.load == FAILS:
        return [f.quantization_fails(quantization.method, quantization.reason, quantization.missing_packages, where)]
    if quantization.load == DEQUANTIZED:
        return [f.dequantized_load(quantization.method, quantization.quantizer, quantization.loaded_dtype,
                                   human_bytes(quantization.loaded_memory_bytes),
                                   _stored(quantization.checkpoint_bytes, estimated_bytes), where)]
    return []


def _stored(measured: int | None, estimated: int | None) -> str:
    if measured is None and estimated is not None:
        return f"an estimated {human_bytes(estimated)}"
    return human_bytes(measured)
