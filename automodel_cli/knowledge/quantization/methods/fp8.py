"""FP8 (DeepSeek-V3 style block scales, `fbgemm_fp8`, MXFP8): float8 `weight` with `weight_scale_inv`
(block scales) or `weight_scale` (per channel)."""

from . import Method, fixed

METHOD = Method(("fp8", "fbgemm_fp8", "mxfp8"), fixed(8),
                ((r"\.weight_scale(_inv)?$", ".weight"), (r"\.(input|activation)_scale(_ub)?$", ".weight")))
