"""What the bench scripts share, so that none imports another (bench/ is not a package: each script is
run as `python bench/X.py`, which puts bench/ on the path, and imports `from support import ...`).

Targets: each figure is printed beside its target, and a script that missed any exits 1 naming them, so
a slower amx cannot pass for a fast one.
"""

from __future__ import annotations

import operator
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout whose amx the scripts time (PYTHONPATH=ROOT)

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
