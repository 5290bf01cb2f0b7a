"""What every kind of layer cache reduces to: elements per kept token, a window, a fixed-size state."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CacheGroup:
    """Layers that cache alike. Elements are per layer and per sequence."""

    kind: str  # "full", "sliding", "state", "hybrid" (state + full attention) or "cross"
    layers: int
    per_token: int = 0  # elements each kept token adds (keys and values, or latent and rope key)
    window: int | None = None  # sliding: the window; transformers keeps its last window - 1 tokens
    per_sequence: int = 0  # fixed-size state (convolution and recurrent states)
    detail: str = ""  # what the elements are, when it is not keys and values ("latent 512 + rope key 64")

    def kept(self, tokens: int) -> int:
        return min(tokens, self.window - 1) if self.window else tokens


def positive(config, *names: str) -> int | None:
    """The first of `names` the config has as a positive int."""
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
