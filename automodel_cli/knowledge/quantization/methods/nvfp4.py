"""NVFP4 (ModelOpt's `nvfp4` releases): `weight` packed two values a byte, with `weight_scale` (FP8, one
a 16-value block), `weight_scale_2` and `input_scale`."""

from . import Method, fixed

METHOD = Method(("nvfp4",), fixed(4), ((r"\.(weight_scale(_2)?|input_scale)$", ".weight"),))
