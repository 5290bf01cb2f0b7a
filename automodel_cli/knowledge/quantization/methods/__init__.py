"""One module per quantization method, each a `Method`: the keys transformers dispatches on, the bits
its config implies, and how its stored tensors make one logical weight. Adding a method is adding a file
and its name in `_MODULES`."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field


def _no_bits(raw: dict) -> int | None:
    return None


@dataclass(frozen=True)
class Method:
    keys: tuple[str, ...]  # transformers' quantizer mapping keys this module describes
    bits: Callable[[dict], int | None] = _no_bits  # when quantization_config has no `bits`
    # (pattern, replacement): a stored tensor's name -> the logical weight it belongs to
    parts: tuple[tuple[str, str], ...] = ()
    # (pattern of the packed tensor, its shape -> the unpacked weight's shape) when the weight is not
    # stored under its own name and shape (MXFP4's blocks); None: it is (FP8) or amx does not derive it
    unpacked_shape: tuple[str, Callable[[tuple[int, ...]], tuple[int, ...]]] | None = None
    # When the load keeps the weights quantized, the quantizer's layers hold the stored parts as they are
    # (packed weight and scales, in their stored dtypes) except those matching these patterns (metadata
    # the loader parses and drops). None: amx does not know what those layers hold, so it does not say.
    dropped_when_quantized: tuple[str, ...] | None = None
    # Kept quantized, a newly initialised weight is reported under its logical name (bitsandbytes), or
    # under the quantized layer's own parameters (compressed-tensors' weight_packed...): amx then leaves
    # the missing keys unpredicted rather than name them otherwise than the load.
    new_weights_named: bool = True
    _compiled: list = field(default_factory=list, compare=False, repr=False)

    def logical_name(self, stored: str) -> str | None:
        """The logical weight a stored tensor belongs to, or None when it is not part of a packed weight."""
        if not self._compiled:
            self._compiled.extend((re.compile(pattern), replacement) for pattern, replacement in self.parts)
        for pattern, replacement in self._compiled:
            if pattern.search(stored):
                return pattern.sub(replacement, stored)
        return None

    def kept_when_quantized(self, stored: str) -> bool:
        """Whether a quantized load keeps this stored part of a packed weight in memory."""
        return not any(re.search(pattern, stored) for pattern in self.dropped_when_quantized or ())


def fixed(bits: int) -> Callable[[dict], int]:
    return lambda raw: bits


_MODULES = ("gptq", "awq", "bitsandbytes", "fp8", "mxfp4", "compressed_tensors", "nvfp4", "torchao")
_GENERIC = Method(())
_registry: dict[str, Method] = {}


def method_for(key: str) -> Method:
    """The method registered for a mapping key; a method without a module has no layout and no implied bits."""
    if not _registry:
        for name in _MODULES:
            method = importlib.import_module(f"{__name__}.{name}").METHOD
            _registry.update(dict.fromkeys(method.keys, method))
    return _registry.get(key, _GENERIC)
