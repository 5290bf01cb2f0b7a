"""bitsandbytes: 4-bit `weight` (uint8, two values a byte) with `absmax`, `quant_map`, `nested_*` and a
`quant_state.*` blob; 8-bit `weight` (int8) with `SCB`. Loaded quantized (bitsandbytes' CPU backend runs
here), Params4bit keeps the packed bytes and its quant state's tensors (absmax, quant_map, nested_*),
Int8Params the int8 rows and SCB; the JSON quant-state blob and the 8-bit format byte are parsed and
dropped."""

from . import Method

_PARTS = ((r"\.weight\.(absmax|quant_map|nested_absmax|nested_quant_map|quant_state\..+)$", ".weight"),
          (r"\.SCB$", ".weight"), (r"\.weight_format$", ".weight"))

METHOD = Method(("bitsandbytes_4bit", "bitsandbytes_8bit"), lambda raw: 4 if raw.get("load_in_4bit") else 8, _PARTS,
                dropped_when_quantized=(r"\.quant_state\.", r"\.weight_format$"))
