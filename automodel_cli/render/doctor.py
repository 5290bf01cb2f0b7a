"""Human rendering of a DoctorReport: one line per finding with its fix, then the verdict."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import RenderableType
from rich.text import Text

from ..diagnosis.doctor import DoctorReport
from ..knowledge.findings import ERROR, INFO, UNCHECKED, WARNING
from . import safe_text

_MARKS = {ERROR: ("✗", "bold red"), WARNING: ("!", "bold yellow"), UNCHECKED: ("?", "bold magenta"),
          INFO: ("i", "cyan")}
_STYLES = {"ok": "bold green", "warn": "bold yellow", "fail": "bold red", "unknown": "bold magenta"}
_VERDICTS = {
    "model": {"ok": "✓ the load would succeed cleanly", "warn": "! the load would work, with the warnings above",
              "fail": "✗ the load would fail",
              "unknown": "? whether the load would succeed could not be checked (see above)"},
    "text": {"ok": "✓ no transformers loading error or warning recognised", "fail": "✗ the load failed",
             "warn": "! the load worked, with the warnings above"},
}


def render_doctor(report: DoctorReport) -> Iterator[RenderableType]:
    title = safe_text(report.subject, "bold")
    if report.head:
        title.append("  ")
        title.append_text(safe_text(f"{report.head}.from_pretrained", "cyan"))
    if report.model_class:
        title.append(" → ")
        title.append_text(safe_text(report.model_class, "cyan"))
    if report.model_type:
        title.append("  model_type=")
        title.append_text(safe_text(report.model_type, "cyan"))
    yield title
    for finding in report.findings:
        mark, style = _MARKS[finding.severity]
        line = Text(f"{mark} ", style=style)
        line.append(f"{finding.code}: ", style=style)
        line.append_text(safe_text(finding.message))
        yield line
        if finding.fix:
            fix = Text("    fix: ", style="dim")
            fix.append_text(safe_text(finding.fix))
            yield fix
    for note in report.notes:
        line = Text("note: ", style="yellow")
        line.append_text(safe_text(note))
        yield line
    text, style = _VERDICTS[report.mode][report.verdict], _STYLES[report.verdict]
    errors = sum(finding.severity == ERROR for finding in report.findings)
    warnings = sum(finding.severity == WARNING for finding in report.findings)
    summary = Text(text, style=style)
    summary.append(f"  ({errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}; "
                   f"transformers {report.transformers_version})", style="dim")
    yield summary
