"""Rendering a CheckReport: a rich table, a JUnit XML file, and GitHub Actions annotations."""

from __future__ import annotations

import contextlib
import os
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from ..base.errors import BadInputError
from ..diagnosis.check import ERROR, FAIL, PASS, CheckReport, ModelResult, Progress
from . import safe_text

_MARKS = {PASS: ("✓", "green"), FAIL: ("✗", "bold red"), ERROR: ("!", "bold yellow")}


def render_check(report: CheckReport) -> Iterator[RenderableType]:
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("", width=1, no_wrap=True)
    table.add_column("model and the heads relied on", overflow="fold")  # names are folded, never cut short
    table.add_column("result", overflow="fold")
    for result in report.models:
        mark, style = _MARKS[result.status]
        model = safe_text(result.model, "bold")
        for head in result.heads:
            model.append("\n  ")
            model.append_text(safe_text(head, "dim"))
        table.add_row(Text(mark, style=style), model, _result_cell(result))
    yield table
    yield _summary_line(report)


def _result_cell(result: ModelResult) -> Text:
    if result.status == PASS:
        count = len(result.checks)
        cell = Text(f"pass ({count} check{'' if count == 1 else 's'})", style="green")
    else:
        cell = safe_text(result.reason, "red" if result.status == FAIL else "yellow")
        more = [c.constraint for c in result.checks if c.status != PASS and c.message != result.reason]
        if more:
            cell.append(f" (also: {', '.join(more)})", style="dim")
        if result.fix:
            cell.append("\nfix: ", style="bold cyan")
            cell.append_text(safe_text(result.fix))
    for note in result.notes:
        cell.append("\nnote: ", style="yellow")
        cell.append_text(safe_text(note))
    return cell


def _summary_line(report: CheckReport) -> Text:
    line = Text("")
    line.append(f"{report.passed} passed", style="green" if report.passed else "dim")
    line.append(", ")
    line.append(f"{report.failed} failed", style="bold red" if report.failed else "dim")
    line.append(", ")
    line.append(f"{report.errors} could not be checked", style="bold yellow" if report.errors else "dim")
    line.append(f"   transformers {report.transformers_version}", style="dim")
    if report.device is not None:
        line.append(f"\nloadable and max-loaded-memory checked for {report.device}, with the packages installed here",
                    style="dim")
    return line


@contextlib.contextmanager
def progress_bar(console: Console) -> Iterator[Progress | None]:
    """A progress bar on a terminal (stderr), else nothing; yields the callback `check_models` takes."""
    if not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as Bar

    with Bar(TextColumn("checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
             TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def update(done: int, total: int, result: ModelResult | None) -> None:
            bar.update(task, completed=done, total=total, description=result.model if result else "")

        yield update


def write_junit(report: CheckReport, path: Path) -> None:
    """One test case per model: a failed model is a <failure>, an unchecked one an <error>."""
    suite = ElementTree.Element("testsuite", name="amx check", tests=str(len(report.models)),
                                failures=str(report.failed), errors=str(report.errors), skipped="0",
                                time=f"{sum(r.seconds for r in report.models):.3f}")
    for result in report.models:
        case = ElementTree.SubElement(suite, "testcase", classname="amx.check", name=result.model,
                                      time=f"{result.seconds:.3f}")
        if result.file:
            case.set("file", result.file)
        if result.line:
            case.set("line", str(result.line))
        if result.status != PASS:
            problem = ElementTree.SubElement(case, "failure" if result.status == FAIL else "error",
                                             message=result.reason, type=_first_problem(result))
            problem.text = "\n".join(
                f"[{c.status}] {c.constraint}: {c.message}" + (f"\n  fix: {c.fix}" if c.fix else "")
                for c in result.checks
            )
    root = ElementTree.Element("testsuites", name="amx check")
    root.append(suite)
    ElementTree.indent(root)
    try:
        ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as error:
        raise BadInputError(f"cannot write the JUnit report {path}: {error.strerror or error}") from None


def _first_problem(result: ModelResult) -> str:
    return next((c.constraint for c in result.checks if c.status == result.status), "model")


def github_annotations(report: CheckReport) -> list[str]:
    """`::error file=...,line=...::` lines for the models that did not pass, read by GitHub Actions."""
    lines = []
    for result in report.models:
        if result.status == PASS:
            continue
        title = f"amx check: {result.model} " + ("fails" if result.status == FAIL else "could not be checked")
        message = result.reason + (f" Fix: {result.fix}" if result.fix else "")
        lines.append(annotation(message, title, result.file, result.line))
    return lines


def annotation(message: str, title: str, file: str | None = None, line: int | None = None) -> str:
    properties = {"file": file, "line": line, "title": title}
    shown = ",".join(f"{key}={_escape(str(value), True)}" for key, value in properties.items() if value)
    return f"::error {shown}::{_escape(message)}"


def _escape(value: str, in_property: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if in_property else value


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"
