"""compressed-tensors (llm-compressor): `weight_packed` (int32) or `weight` with `weight_scale`,
`weight_zero_point`, `weight_shape`, `weight_g_idx`; the bits are each config group's `weights.num_bits`.
Loaded quantized (`quantization_status: compressed`), the compressed linear layers keep every stored part
as a parameter; a weight the load initialises in a converted layer is reported by those parameters' names
(`score.weight_packed`, ...), which depend on the format: amx does not name them."""

from . import Method


def _bits(raw: dict) -> int | None:
    """The config groups' weight bits when they agree (a number, 1 to 32), else None: mixed or unknown."""
    groups = raw.get("config_groups")
    if not isinstance(groups, dict):
        return None
    found = set()
    for group in groups.values():
        weights = group.get("weights") if isinstance(group, dict) else None
        bits = weights.get("num_bits") if isinstance(weights, dict) else None
        found.add(bits if isinstance(bits, int) and not isinstance(bits, bool) and 1 <= bits <= 32 else None)
    return found.pop() if len(found) == 1 else None


METHOD = Method(("compressed-tensors",), _bits,
                ((r"\.weight_(packed|scale|zero_point|shape|g_idx|global_scale)$", ".weight"),
                 (r"\.input_(scale|global_scale|zero_point)$", ".weight")), dropped_when_quantized=(),
                new_weights_named=False)
