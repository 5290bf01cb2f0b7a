"""Tables that fit the width they are printed at, whatever their rows.

rich wraps the cells it may wrap, but a column of names (`no_wrap`: class names are copied, never cut)
that does not fit gets cropped to "…", and a narrow terminal loses whole columns. So a table whose
unbreakable minimum is wider than the console is stacked instead: per row, the leading columns that fit
on one line, aligned, then the other columns on an indented line as "header value" pairs. Nothing is
cut, and any table gets this, with the rows it has today or gets tomorrow.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Column, Table
from rich.text import Text

STACKED_INDENT = 4
_PAIR_SEPARATOR = "   "
_LEADING_GAP = 2


def fit_table(table: Table, console: Console) -> RenderableType:
    """`table` itself when rich can fit it without cutting a name, else its stacked layout."""
    for column in table.columns:
        if column.no_wrap:  # tell rich's measurement that a name needs its whole width
            column.min_width = max(column.min_width or 0, _widest(column, console))
    if Measurement.get(console, _unbounded(console), table).minimum <= console.width:
        return table
    return stacked(table, console)


def _text(cell: object) -> Text:
    return cell.copy() if isinstance(cell, Text) else Text(str(cell))


def _unbounded(console: Console):
    """Options without the console's width: what a table needs, not what rich would squeeze it to."""
    return console.options.update_width(10**6)


def _widest(column: Column, console: Console) -> int:
    cells = [column.header, *column.cells]
    return max(Measurement.get(console, _unbounded(console), _text(c)).maximum for c in cells)


def stacked(table: Table, console: Console) -> RenderableType:
    """One block per row: the leading columns aligned on the first line, the others indented below."""
    widths = [_widest(column, console) for column in table.columns]
    leading, used = 0, 0
    for width in widths:
        if leading and used + _LEADING_GAP + width > console.width:
            break
        used += (_LEADING_GAP if leading else 0) + width
        leading += 1
    columns = [list(column.cells) for column in table.columns]
    lines: list[RenderableType] = []
    if table.title:
        lines.append(_text(table.title))
    lines.append(_leading_line([c.header for c in table.columns[:leading]], widths, "bold"))
    for row in range(table.row_count):
        lines.append(_leading_line([columns[i][row] for i in range(leading)], widths))
        rest = Text()
        for index in range(leading, len(columns)):
            value = _text(columns[index][row])
            if not value.plain.strip():
                continue
            if rest:
                rest.append(_PAIR_SEPARATOR)
            header = _text(table.columns[index].header).plain.strip()
            if header:
                rest.append(f"{header} ", style="dim")
            rest.append_text(value)
        if rest:
            lines.append(Padding(rest, (0, 0, 0, STACKED_INDENT)))
    return Group(*lines)


def _leading_line(cells: list[object], widths: list[int], style: str = "") -> Text:
    line = Text(style=style)
    for index, cell in enumerate(cells):
        text = _text(cell)
        if index:
            line.append(" " * _LEADING_GAP)
        line.append_text(text)
        if index < len(cells) - 1:
            line.append(" " * (widths[index] - text.cell_len))
    line.rstrip()
    return line
