"""Output samples for README.md and docs/*.md, produced by running amx (cogapp calls these).

Regenerate every sample: `cog -r -I docs README.md docs/*.md`; tests/test_docs.py runs `cog --check`, so a
sample that no longer matches the tool fails the tests. Samples run from the project root on examples/
folders, offline, exactly as a user's shell would (output piped, so no colours and no spinner).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import cog

ROOT = Path(__file__).resolve().parents[1]


def _run(args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "automodel_cli", *shlex.split(args)], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)


def amx(args: str, *, first: int | None = None, lang: str = "") -> None:
    """A fenced block: `$ amx ARGS` and what it prints (stdout then stderr), cut after `first` lines if given."""
    result = _run(args)
    lines = (result.stdout + result.stderr).rstrip("\n").splitlines()
    lines = [line.rstrip() for line in lines]
    if first is not None and len(lines) > first:
        lines = [*lines[:first], "..."]
    cog.outl(f"```{lang}")
    cog.outl(f"$ amx {args}")
    for line in lines:
        cog.outl(line)
    cog.outl("```")


def _abridged(value, keep: int):
    if isinstance(value, list):
        return [_abridged(item, keep) for item in value[:keep]]
    if isinstance(value, dict):  # timings differ from run to run: left out
        return {key: _abridged(item, keep) for key, item in value.items() if key != "seconds"}
    if isinstance(value, str) and len(value) > 100:
        return value[:60] + "..."
    return value


def amx_json(args: str, *, keep: int = 1) -> None:
    """A fenced JSON block of `amx ARGS --json`: every list cut to its first `keep` items, long strings cut,
    `seconds` (a timing) left out."""
    data = json.loads(_run(f"{args} --json").stdout)
    cog.outl(f"`amx {args} --json`, every list cut to {keep} item{'s' * (keep != 1)}:")
    cog.outl()
    cog.outl("```json")
    cog.outl(json.dumps(_abridged(data, keep), indent=2, ensure_ascii=False))
    cog.outl("```")
