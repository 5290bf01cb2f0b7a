"""`amx check`'s `loadable` and `max-loaded-memory`: what loading does on this machine (or the one
`--device` names), from the inspection's `quantization` section (knowledge/quantization/loading.py), as
(constraint, status, message, fix) for check.py to wrap."""

from __future__ import annotations

from ..analysis.report import InspectReport, Quantization
from ..knowledge.findings import UPGRADE
from ..knowledge.quantization.loading import DEQUANTIZED, FAILS

PASS, FAIL, ERROR = "pass", "fail", "error"
_TORCH_TO_MEMORY_KEY = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}


def _install(q: Quantization) -> str:
    if q.quantizer is None:  # a quant_method the installed transformers does not know
        return f"{UPGRADE} if a newer release supports {q.method!r}, or choose a release quantized another way"
    return ("pip install " + " ".join(f"'{package}'" for package in q.missing_packages) if q.missing_packages
            else "load it where the quantizer's requirements hold, or choose an unquantized release")


def _loaded_bytes(inspected: InspectReport) -> tuple[int | None, str]:
    """The weights' bytes once loaded here and how that was reached; None when amx cannot know."""
    q = inspected.quantization
    if q is None:
        key = _TORCH_TO_MEMORY_KEY.get(inspected.summary.dtype or "", "checkpoint")
        return inspected.memory_bytes[key], f"in {key if key != 'checkpoint' else inspected.checkpoint_dtype}"
    if q.loaded_memory_bytes is None:
        return None, ""
    if q.load == DEQUANTIZED:
        return q.loaded_memory_bytes, f"dequantized to {q.loaded_dtype} by {q.quantizer}"
    return q.loaded_memory_bytes, f"kept quantized by {q.quantizer}"


def loading_checks(loadable: bool, max_loaded_memory: int | None,
                   inspected: InspectReport) -> list[tuple[str, str, str, str]]:
    q = inspected.quantization
    where = f"on {q.device}" if q is not None and q.device else "here"
    checks = []
    if loadable:
        if q is not None and q.load == FAILS:
            checks.append(("loadable", FAIL, f"from_pretrained fails {where}: {q.reason}", _install(q)))
        elif q is not None:
            checks.append(("loadable", PASS, f"the {q.method} checkpoint loads {where}, {q.load} by {q.quantizer}"))
        else:
            checks.append(("loadable", PASS, "not quantized: no quantizer requirement to meet"))
    if max_loaded_memory:
        used, how = _loaded_bytes(inspected)
        if q is not None and q.load == FAILS:
            checks.append(("max-loaded-memory", FAIL, f"from_pretrained fails {where}: {q.reason}",
                           _install(q)))
        elif used is None and q.load == DEQUANTIZED:
            checks.append(("max-loaded-memory", ERROR, "could not check max-loaded-memory: the load dequantizes "
                           "to the checkpoint's float dtype, which config.json does not name",
                           "check it where the weights are (their safetensors headers show the dtype)"))
        elif used is None:
            checks.append(("max-loaded-memory", ERROR, f"could not check max-loaded-memory: the memory a "
                           f"{q.quantizer} load keeps is not predicted", "measure it with a real load"))
        else:
            within = used <= max_loaded_memory
            checks.append(("max-loaded-memory", PASS if within else FAIL,
                           f"the loaded weights take {used:,} bytes {how}, {'within' if within else 'over'} "
                           f"max-loaded-memory {max_loaded_memory:,}",
                           "" if within else "load it where the quantized kernels run, choose a smaller "
                                             "model, or raise max-loaded-memory"))
    return checks
