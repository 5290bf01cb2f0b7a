"""MXFP4 (gpt-oss): expert weights as `<name>_blocks` (uint8, two values a byte, 32 a block) and
`<name>_scales` (one E8M0 byte a block)."""

from . import Method, fixed

METHOD = Method(("mxfp4",), fixed(4), ((r"_(blocks|scales)$", ""),))
