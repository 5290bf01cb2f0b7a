"""Output samples for README.md and docs/*.md, produced by running amx, and docs/commands.md, generated from the
Typer app (cogapp calls these).

Regenerate them all: `cog -r -I docs README.md docs/*.md`; tests/test_docs.py runs `cog --check`, so a
sample or reference that no longer matches the tool fails the tests. Samples run from the project root on examples/
folders, offline, exactly as a user's shell would (output piped, so no colours and no spinner), at the
80 columns of a standard terminal (COLUMNS=80).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import cog

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 80  # the samples are what a standard terminal shows


def _run(args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": str(WIDTH),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
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


def amx_json(args: str, *, keep: int = 1, only: str | None = None) -> None:
    """A fenced JSON block of `amx ARGS --json` (or of its `only` field): every list cut to its first `keep`
    items, long strings cut, `seconds` (a timing) left out."""
    data = json.loads(_run(f"{args} --json").stdout)
    if only is not None:
        data = {only: data[only]}
    shown = f"`amx {args} --json`" + (f" (its `{only}`)" if only else "")
    cog.outl(f"{shown}, every list cut to {keep} item{'s' * (keep != 1)}:")
    cog.outl()
    cog.outl("```json")
    cog.outl(json.dumps(_abridged(data, keep), indent=2, ensure_ascii=False))
    cog.outl("```")


def command_reference(title: str) -> None:
    """Every command and option, as Typer writes Markdown docs for the app (`typer ... utils docs`)."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "commands.md"
        subprocess.run([sys.executable, "-m", "typer", "automodel_cli.cli", "utils", "docs", "--name", "amx",
                        "--title", title, "--output", str(output)], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")},
                       timeout=300)
        # `\b` (alone on a line) keeps click from rewrapping the examples in --help; Markdown needs no such mark.
        cog.out("".join(line for line in output.read_text().splitlines(keepends=True) if line.strip("\n") != "\b"))
