"""torch is an extra of amx: headers, config.json and the head index are read without it; only a model
built on the meta device (and what is predicted from one) needs it."""

from __future__ import annotations

import functools
import importlib.util


@functools.cache
def torch_installed() -> bool:
    """Whether torch can be imported, without importing it (seconds)."""
    return importlib.util.find_spec("torch") is not None

