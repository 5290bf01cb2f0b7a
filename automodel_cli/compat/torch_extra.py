"""torch is an extra of amx: headers, config.json and the head index are read without it; only a model
built on the meta device (and what is predicted from one) needs it."""

from __future__ import annotations

import functools
import importlib.util

from ..base.errors import TorchMissingError


@functools.cache
def torch_installed() -> bool:
    """Whether torch can be imported, without importing it (seconds)."""
    return importlib.util.find_spec("torch") is not None


def require_torch(needed_for: str) -> None:
    """Raise TorchMissingError naming what needed torch, when it is not installed."""
    if not torch_installed():
        raise TorchMissingError(needed_for)
