"""Shared fixtures. Every test runs with its own HF cache and amx cache, and offline unless it starts
the local Hub server (tests/localhub.py): no test may reach the real Hub."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="amx-tests-"))
# Set before anything imports huggingface_hub, which reads these once at import time.
os.environ["HF_HOME"] = str(_SESSION_HOME / "hf-home")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["AMX_CACHE_DIR"] = str(_SESSION_HOME / "amx-cache")
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_ENDPOINT", None)
os.environ.pop("HF_HUB_CACHE", None)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = PROJECT_ROOT / "examples"
# AMX_CORPUS_DIR points elsewhere, e.g. from a git worktree that does not sit beside ../shared.
CORPUS = Path(os.environ.get("AMX_CORPUS_DIR") or PROJECT_ROOT.parent / "shared" / "corpus" / "configs")


def corpus_slugs() -> list[str]:
    """Slugs of the shared corpus, or an empty list when it is absent (a user's clone)."""
    if not CORPUS.is_dir():
        return []
    return sorted(p.name for p in CORPUS.iterdir() if (p / "config.json").is_file())


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/configs is absent (it ships beside the project, not in it)")
    return CORPUS


def run_amx(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None,
            input_text: str | None = None):
    """Run the real entry point (`python -m automodel_cli`) in a subprocess, with `input_text` piped in."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "automodel_cli", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd, input=input_text,
    )
