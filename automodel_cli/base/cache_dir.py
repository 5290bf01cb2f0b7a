"""Where amx keeps its own derived data (never model files: those live in the Hugging Face cache)."""

from __future__ import annotations

import os
from pathlib import Path


def amx_cache_dir() -> Path:
    """`AMX_CACHE_DIR`, else `$XDG_CACHE_HOME/amx`, else `~/.cache/amx`."""
    explicit = os.environ.get("AMX_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "amx"
