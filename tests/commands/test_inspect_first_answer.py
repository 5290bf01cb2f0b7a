"""`amx inspect` answers first with what the headers say, before torch or transformers is imported; the rest
follows, the same on a first run (the meta build done) and a second (remembered); `--json` is one document."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from support import PROJECT_ROOT, run_amx
from support.gguf_files import tiny_parameter_count, write_tiny_gguf
from support.tiny_models import save_tiny, tiny_config

from automodel_cli.base.cache_dir import amx_cache_dir
from automodel_cli.knowledge.head_index import load_index

HEAVY_IMPORT = re.compile(r"^import time:.*\|\s+(torch|transformers)(\.\S+)?$")
FIRST_LINE = "parameters as stored"


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A tiny Llama saved by transformers and a tiny GGUF file, with the parameters each really holds."""
    root = tmp_path_factory.mktemp("first-answer")
    config = tiny_config("llama")
    llama = save_tiny("LlamaForCausalLM", config, root / "llama")
    import transformers

    stored = transformers.LlamaForCausalLM(config).num_parameters()
    gguf = write_tiny_gguf(root / "tiny.gguf")
    return {"safetensors": (llama, stored), "gguf": (gguf, tiny_parameter_count("llama"))}


@pytest.fixture
def empty_meta_cache(tmp_path):
    """An amx cache with the head index (as any install has after its first command) and no meta build."""
    load_index()
    cache = tmp_path / "amx-cache"
    shutil.copytree(amx_cache_dir() / "head-index", cache / "head-index")
    return cache


def amx_merged(cache, *args: str, env: dict[str, str] | None = None) -> list[str]:
    """`python -X importtime -m automodel_cli inspect ...` with stderr merged into stdout: one pipe, in order."""
    env = {**os.environ, **(env or {}), "AMX_CACHE_DIR": str(cache), "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "automodel_cli", "inspect", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    return done.stdout.splitlines()


def without_import_times(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith("import time:")]


@pytest.mark.parametrize("kind", ["safetensors", "gguf"])
def test_headers_first_then_the_rest_the_same_when_remembered_and_json_once(checkpoints, empty_meta_cache, kind):
    path, stored = checkpoints[kind]
    first = amx_merged(empty_meta_cache, str(path))
    header = next(n for n, line in enumerate(first) if FIRST_LINE in line)
    heavy = next(n for n, line in enumerate(first) if HEAVY_IMPORT.match(line))
    assert header < heavy  # printed (and flushed) before the first line of torch's or transformers' imports
    human = without_import_times(first)
    assert sum(line.startswith("│ dtypes ") for line in human) == 1  # the rest does not repeat the headers' rows
    assert f"({stored:,})" in first[header]
    head = next(line for line in first if line.startswith("head "))
    assert f"({stored:,} parameters)" in head  # the head check follows, from the build

    second = amx_merged(empty_meta_cache, str(path))
    assert not any(HEAVY_IMPORT.match(line) for line in second)  # all remembered
    assert without_import_times(second) == without_import_times(first)
    assert sum(FIRST_LINE in line for line in second) == 1

    done = run_amx("inspect", str(path), "--json", env={"AMX_CACHE_DIR": str(empty_meta_cache)})
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # one document: anything printed before or after it fails to parse
    assert data["schema"] == "amx.inspect/1" and FIRST_LINE not in done.stdout
    assert data["total_parameters"] == stored and data["checkpoint_format"] == kind


def test_a_hub_model_answers_first_too(local_hub, tiny_bert_repo, empty_meta_cache, tmp_path):
    """Over the local Hub: the headers' block (read with range requests) before torch or transformers."""
    lines = amx_merged(empty_meta_cache, tiny_bert_repo, env=local_hub.env(tmp_path))
    title = next(n for n, line in enumerate(lines) if "(from the safetensors headers)" in line)
    heavy = next(n for n, line in enumerate(lines) if HEAVY_IMPORT.match(line))
    assert tiny_bert_repo in lines[title] and title < heavy
    assert any(FIRST_LINE in line for line in lines[title:heavy])
