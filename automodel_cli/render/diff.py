"""Human rendering of a DiffReport: the verdict, then config, heads, tensors (layers collapsed) and totals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..analysis.diff import DIFFERENCES, DiffReport, Pair, TensorDiff
from ..base.units import human_bytes, human_count
from ..formats.param_groups import collapse_layers
from . import safe_text
from .inspect import head_lines

MAX_VALUE_CHARS = 60
_KIND_NOTES = {"default": "absent on one side, at its class default", "bookkeeping": "not compared"}


def _value(value: Any, present: bool) -> Text:
    if not present:
        return Text("(absent)", style="dim")
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS - 1] + "…"
    return safe_text(text)


def _config(report: DiffReport) -> Iterator[RenderableType]:
    differing = sum(c.kind in DIFFERENCES for c in report.config)
    yield Text(f"config: {differing} field{'s differ' if differing != 1 else ' differs'}" if differing
               else "config: the same", style="bold")
    if not report.config:
        return
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("field", overflow="fold")
    table.add_column("A", overflow="fold")
    table.add_column("B", overflow="fold")
    for change in report.config:
        style = "" if change.kind in DIFFERENCES else "dim"
        name = safe_text(change.field, style)
        if change.kind in _KIND_NOTES:
            name.append(f"  ({_KIND_NOTES[change.kind]})", style="dim")
        table.add_row(name, _value(change.a, change.absent != "a"), _value(change.b, change.absent != "b"))
    yield table


def _heads(report: DiffReport) -> Iterator[RenderableType]:
    heads = report.heads
    line = Text("heads: ", style="bold")
    if heads.native.a == heads.native.b:
        line.append("native ")
        line.append_text(safe_text(heads.native.a or "none", "cyan"))
        line.append(" on both sides")
    else:
        line.append("native ")
        line.append_text(safe_text(heads.native.a or "none", "cyan"))
        line.append(" → ")
        line.append_text(safe_text(heads.native.b or "none", "cyan"))
    yield line
    for label, classes, style in (("only A loads with", heads.removed, "red"),
                                  ("only B loads with", heads.added, "green")):
        if classes:
            entry = Text(f"  {label}: ", style=style)
            entry.append_text(safe_text(", ".join(classes)))
            yield entry


def _tensors(diff: TensorDiff) -> Iterator[RenderableType]:
    counts = f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} reshaped or retyped"
    yield Text(f"tensors: {counts}" if not diff.empty else "tensors: the same names, shapes and dtypes", style="bold")
    if diff.empty:
        return
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("tensor", overflow="fold")
    table.add_column("A", no_wrap=True)
    table.add_column("B", no_wrap=True)
    table.add_column("×", justify="right", no_wrap=True)
    rows = [("-", t.name, f"{list(t.shape)} {t.dtype}", "") for t in diff.removed]
    rows += [("+", t.name, "", f"{list(t.shape)} {t.dtype}") for t in diff.added]
    rows += [("~", c.name, f"{list(c.a.shape)} {c.a.dtype}", f"{list(c.b.shape)} {c.b.dtype}") for c in diff.changed]
    styles = {"-": "red", "+": "green", "~": "yellow"}
    collapsed = collapse_layers([r[1] for r in rows], [(r[0], r[2], r[3]) for r in rows])
    for name, (sign, side_a, side_b), members in collapsed:
        table.add_row(Text(sign, style=styles[sign]), safe_text(name), side_a, side_b,
                      f"×{len(members)}" if len(members) > 1 else "")
    yield table


def _files(files: list[str], total: int | None) -> str:
    if not files:
        return "-"
    return f"{len(files)} file{'s' if len(files) != 1 else ''}, {human_bytes(total)}"


def _quantization(method) -> str:
    """A transformers quantization (method and bits), a GGUF file's quantization name, or none."""
    if method is None or isinstance(method, str):
        return method or "-"
    return method.method + (f" {method.bits}-bit" if method.bits else "")


def _sized(files: list[str], sizes: dict[str, int] | None) -> str:
    sizes = sizes or {}
    return ", ".join(f"{name} ({human_bytes(sizes[name])})" if name in sizes else name for name in files) or "-"


def _totals(report: DiffReport) -> Table:
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("A", overflow="fold")
    table.add_column("B", overflow="fold")

    def row(label: str, pair: Pair, show) -> None:
        a, b = show(pair.a), show(pair.b)
        table.add_row(label, safe_text(a), safe_text(b, "" if a == b else "yellow"))

    row("shape", Pair(f"{report.kind.a} (from {report.source.a})", f"{report.kind.b} (from {report.source.b})"), str)
    row("parameters", report.parameters, lambda n: f"{human_count(n)} ({n:,})")
    row("dtypes", report.dtypes, lambda d: ", ".join(f"{k} ({human_count(v)})" for k, v in d.items()) or "-")
    row("memory", report.memory_bytes, lambda m: human_bytes(m.get("checkpoint")))
    row("quantization", report.quantization, _quantization)
    row("checkpoint", Pair(_files(report.checkpoint_files.a, report.checkpoint_bytes.a),
                           _files(report.checkpoint_files.b, report.checkpoint_bytes.b)), str)
    row("files", Pair(_sized(report.checkpoint_files.a, report.checkpoint_file_bytes.a),
                      _sized(report.checkpoint_files.b, report.checkpoint_file_bytes.b)), str)
    row("structure", report.structure_digest, lambda d: (d or "-")[:19])
    return table


_WEIGHTS = {
    "identical": "weights: the same bytes (the sha256 the Hub lists for every weight file)",
    "different": "weights: other bytes (the sha256 the Hub lists for the weight files differ)",
    "unknown": "weights: values not compared (never read; the Hub lists no sha256 for some weight file)",
}


def render_diff(report: DiffReport) -> Iterator[RenderableType]:
    title = Text("A ", style="bold")
    title.append_text(safe_text(report.a, "bold"))
    title.append("  B ", style="bold")
    title.append_text(safe_text(report.b, "bold"))
    title.append(": the same structure" if report.same else ": they differ",
                 style="bold green" if report.same else "bold yellow")
    yield title
    yield Text("")
    yield from _config(report)
    yield Text("")
    yield from _heads(report)
    yield Text("")
    yield from _tensors(report.tensors)
    yield Text("")
    yield _totals(report)
    files = report.checkpoint_files
    without = [side for side, listed in (("A", files.a), ("B", files.b)) if not listed]
    if without:
        yield Text(f"weights: not compared ({' and '.join(without)} without weight files)", style="dim")
    else:
        yield Text(_WEIGHTS[report.weights], style="dim" if report.weights == "unknown" else "")
    if report.load_into_side is not None and report.load_into is not None:
        into, other = ("A", "B") if report.load_into_side == "a" else ("B", "A")
        yield Text("")
        yield Text(f"{other}'s checkpoint loaded into {into}'s head:", style="bold")
        yield Group(*head_lines(report.load_into))
    for note in report.notes:
        line = Text("note: ", style="yellow")
        line.append_text(safe_text(note))
        yield line
