"""MXFP4 (gpt-oss): expert weights as `<name>_blocks` (uint8, two values a byte, 32 a block) and
`<name>_scales` (one E8M0 byte a block)."""

from . import Method, fixed


def _unpacked(blocks: tuple[int, ...]) -> tuple[int, ...]:
    """(experts, out, in/32, 16) blocks of two values a byte -> the expert weight (experts, in, out), as
    transformers' dequantization transposes it; None for a shape that is not four dimensions."""
    if len(blocks) != 4:
        return None
    experts, rows, count, size = blocks
    return experts, count * size * 2, rows


METHOD = Method(("mxfp4",), fixed(4), ((r"_(blocks|scales)$", ""),), (r"_blocks$", _unpacked))
