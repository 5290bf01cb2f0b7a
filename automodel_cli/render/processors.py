"""Human rendering of a ProcessorsReport (shown by `amx heads MODEL --processors`)."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from ..knowledge.processors import ABSENT, FOUND, ProcessorsReport
from . import safe_text

_FILE_STYLES = {FOUND: "green", ABSENT: "dim"}


def _known_cell(known: bool | None) -> Text:
    if known is None:
        return Text("-", style="dim")
    return Text("yes", style="green") if known else Text("no", style="red")


def render_processors(report: ProcessorsReport) -> Iterator[RenderableType]:
    yield Text("\npreprocessing", style="bold cyan")
    if report.processors:
        table = Table(show_edge=False, header_style="bold", pad_edge=False)
        table.add_column("Auto class", no_wrap=True)
        table.add_column("class", no_wrap=True)
        table.add_column("from", no_wrap=True)
        table.add_column("declared", no_wrap=True)
        table.add_column("known", justify="center", no_wrap=True)
        table.add_column("note", min_width=12)
        for item in report.processors:
            table.add_row(
                Text(item.auto_class, style="bold"),
                safe_text(item.class_name or "-", "magenta" if item.remote_code else ""),
                safe_text(item.source),
                safe_text(item.remote_code or item.declared or "-"),
                _known_cell(item.known),
                safe_text(item.note),
            )
        yield table
    else:
        yield Text("no preprocessing class applies (no processor files, and none mapped for this model_type)",
                   style="yellow")
    files = Text("files: ", style="dim")
    for number, (name, status) in enumerate(report.files.items()):
        files.append(", " if number else "")
        files.append(f"{name} {status}", style=_FILE_STYLES.get(status, "yellow"))
    yield files
    for note in report.notes:
        line = Text("note: ", style="yellow")
        line.append_text(safe_text(note))
        yield line
