"""Human rendering of a TasksReport: a table per modality, or one block per matching task."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..knowledge.task_search import TaskEntry, TasksReport

# More matches than this are listed as a table, without code (the query was too broad for examples).
MAX_DETAILED = 4


def _pipelines(entry: TaskEntry) -> str:
    return ", ".join(entry.pipelines) or "-"


def _table(entries: list[TaskEntry]) -> Table:
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("Auto class", no_wrap=True)
    table.add_column("task", ratio=2)
    table.add_column("pipeline", ratio=1)
    table.add_column("inputs", ratio=2)
    table.add_column("main output", ratio=2)
    for entry in entries:
        table.add_row(Text(entry.auto_class, style="bold"), *map(Text, (entry.task, _pipelines(entry), entry.inputs,
                                                                        entry.output)))
    return table


def _catalogue(report: TasksReport) -> Iterator[RenderableType]:
    for modality, group in groupby(report.tasks, key=lambda entry: entry.modality):
        yield Text(f"\n{modality}", style="bold cyan")
        yield _table(list(group))
    yield Text(f"\n{len(report.tasks)} Auto model classes in transformers {report.transformers_version}; "
               "'amx tasks QUERY' for one with a code example", style="dim")


def _detail(entry: TaskEntry) -> RenderableType:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column()
    rows = [("modality", entry.modality), ("pipeline", _pipelines(entry)), ("Hub task", entry.hub_task or "-"),
            ("inputs", entry.inputs or "-"), ("main output", entry.output or "-"),
            ("model types", f"{entry.model_type_count}" + ("" if entry.model_types else " (--model-types lists them)"))]
    for name, value in rows:
        facts.add_row(name, Text(value))
    title = Text(entry.auto_class, style="bold green")
    title.append(f"  {entry.task}", style="bold")
    parts: list[RenderableType] = [title, Padding(facts, (0, 0, 0, 2), expand=False)]
    if entry.example:
        parts.append(Padding(Syntax(entry.example.rstrip("\n"), "python", theme="ansi_dark",
                                    background_color="default"), (1, 0, 0, 0), expand=False))
    if entry.model_types:
        types = Table(show_edge=False, header_style="bold", pad_edge=False, box=None)
        types.add_column("model_type", no_wrap=True)
        types.add_column("model class", no_wrap=True)
        for model_type, model_class in entry.model_types.items():
            types.add_row(Text(model_type), Text(model_class))
        parts.append(Padding(types, (1, 0, 0, 2), expand=False))
    return Group(*parts)


def render_tasks(report: TasksReport) -> Iterator[RenderableType]:
    if report.query is None:
        yield from _catalogue(report)
        return
    if report.other_library is not None:
        other = report.other_library
        line = Text(f"no Auto class of transformers {report.transformers_version} does {other.task}: it is a "
                    f"task for {other.library}, e.g.\n  ", style="bold yellow")
        line.append(other.loader, style="bold")
        yield line
        return
    if len(report.tasks) > MAX_DETAILED:
        yield Text(f"{len(report.tasks)} tasks match {report.query!r}; name one for its code example:")
        yield _table(report.tasks)
        return
    for number, entry in enumerate(report.tasks):
        if number:
            yield Text("")
        yield _detail(entry)
