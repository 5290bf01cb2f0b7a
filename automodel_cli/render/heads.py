"""Human rendering of a HeadsReport."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from ..knowledge.heads import HeadsReport
from . import safe_text
from .repository import render_adapter


def _new_weights_cell(value: bool | None) -> Text:
    if value is None:
        return Text("?", style="dim")
    return Text("yes", style="yellow") if value else Text("no", style="green")


def render_heads(report: HeadsReport) -> Iterator[RenderableType]:
    title = Text("")
    title.append_text(safe_text(report.model, "bold"))
    title.append("  model_type=")
    title.append_text(safe_text(report.model_type or "-", "cyan"))
    if report.architectures:
        title.append("  architectures=")
        title.append_text(safe_text(", ".join(report.architectures), "cyan"))
    yield title
    if report.adapter is not None:
        yield from render_adapter(report.adapter)

    if report.heads:
        yield _table(report)
    summary = Text("")
    if report.native_head:
        summary.append("★ native head: ", style="bold green")
        summary.append_text(safe_text(report.native_head))
        summary.append("   ")
    counted = f"{len(report.heads)} heads" if report.heads else "no Auto heads"
    summary.append(f"{counted}, transformers {report.transformers_version}", style="dim")
    yield summary
    for note in report.notes:
        line = Text("note: ", style="yellow")
        line.append_text(safe_text(note))
        yield line


def _table(report: HeadsReport) -> Table:
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("", width=1, no_wrap=True)
    table.add_column("Auto class", no_wrap=True)
    table.add_column("model class", no_wrap=True)
    table.add_column("new weights", justify="center", no_wrap=True)
    table.add_column("task", min_width=12)
    for head in report.heads:
        marker = Text("★", style="bold green") if head.native else Text("")
        auto = safe_text(head.auto_class, "bold green" if head.native else "")
        model_class = safe_text(head.model_class, "magenta" if head.remote_code else "blue" if head.registered_by else "")
        if head.registered_by:
            model_class.append_text(safe_text(f"  (registered by {head.registered_by})", "dim"))
        table.add_row(marker, auto, model_class, _new_weights_cell(head.new_weights), safe_text(head.task))
    return table
