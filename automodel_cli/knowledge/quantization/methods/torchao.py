"""torchao: each quantized parameter saved flattened, as transformers' torchao integration names the
parts of its tensor subclass: `_<param>_qdata` with `_<param>_scale`, `_zero_point`, `_scale_and_zero`,
`_per_tensor_scale` or `_act_pre_scale` (Int8Tensor, Int4Tensor, Float8Tensor...). The bits are those of
the config's `quant_type` (`Int8WeightOnlyConfig`, `int4_weight_only`...)."""

import re

from . import Method

_BITS = re.compile(r"(?:int|float|uint)(\d{1,2})", re.IGNORECASE)


def _bits(raw: dict) -> int | None:
    """The bits the quant_type names (its `_type`, or the string older releases write); None: none named."""
    quant_type = raw.get("quant_type")
    if isinstance(quant_type, dict):
        quant_type = quant_type.get("default", quant_type)
        quant_type = quant_type.get("_type") if isinstance(quant_type, dict) else None
    found = _BITS.search(quant_type) if isinstance(quant_type, str) else None
    return int(found[1]) if found and 1 <= int(found[1]) <= 32 else None


METHOD = Method(("torchao",), _bits,
                ((r"\._(\w+?)_(qdata|scale_and_zero|per_tensor_scale|scale|zero_point|act_pre_scale)$", r".\1"),))
