"""What the bench scripts share, so that none imports another (bench/ is not a package: each script is
run as `python bench/X.py`, which puts bench/ on the path, and imports `from support import ...`).

Targets: each figure is printed beside its target, and a script that missed any exits 1 naming them, so
a slower amx cannot pass for a fast one. Each side of a comparison runs in a fresh process, as a user
runs it, timed in wall and CPU seconds (on a loaded shared machine the wall time measures the neighbours).
"""

from __future__ import annotations

import argparse
import dataclasses
import operator
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_COMPARE = {"<": operator.lt, "<=": operator.le}
_missed: list[str] = []


def target(what: str, value: float, op: str, limit: float, unit: str = "") -> str:
    """`(target < 0.5 s)`, or `(MISSED target < 0.5 s)` and remembered when `value` is beyond it."""
    unit = unit if unit in ("", "x") else f" {unit}"
    shown = f"target {op} {limit:g}{unit}"
    if _COMPARE[op](value, limit):
        return f"({shown})"
    _missed.append(f"{what} {value:.3g}{unit} ({shown})")
    return f"(MISSED {shown})"


def finish() -> None:
    """Exit 1 when a target was missed: the last line says which."""
    if _missed:
        sys.exit(f"missed {len(_missed)} target(s): {'; '.join(_missed)}")


def parser(doc: str, repeat: str | None = None) -> argparse.ArgumentParser:
    """The script's arguments, described by its docstring's first line; `repeat` says what --repeat runs."""
    arguments = argparse.ArgumentParser(description=doc.splitlines()[0])
    if repeat:
        arguments.add_argument("--repeat", type=int, default=3, help=f"{repeat} (median is kept)")
    return arguments


def environment(**variables: str) -> dict[str, str]:
    """This environment with `variables`, and PYTHONPATH=ROOT so that the processes run this checkout's amx."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **variables}


@dataclasses.dataclass(frozen=True)
class Run:
    stdout: str
    stderr: str
    returncode: int
    seconds: float  # wall
    cpu: float  # user + system


def run(cmd: list[str], env: dict[str, str], *, check: bool = True, cwd: Path | None = None) -> Run:
    """One fresh process, timed; check=False for commands whose non-zero exit is their answer."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, check=check, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(done.stdout, done.stderr, done.returncode, seconds, cpu)


def median_run(cmd: list[str], env: dict[str, str], repeat: int, **options) -> Run:
    """`repeat` runs of one command: the last, with the median wall and the median CPU seconds of them all."""
    runs = [run(cmd, env, **options) for _ in range(repeat)]
    return dataclasses.replace(runs[-1], seconds=statistics.median(r.seconds for r in runs),
                               cpu=statistics.median(r.cpu for r in runs))
