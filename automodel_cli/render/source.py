"""Human rendering of a SourceReport: highlighted code on a terminal, the exact source text when piped.

Every line that is not code starts with `# `, so piped output stays valid Python and a block can be
cut out of it unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.segment import Segment
from rich.text import Text

from ..source.forward_contract import Contract, InputParam
from ..source.live_source import MethodSource
from ..source.model_source import SourceReport
from . import safe_text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible_code(source: str) -> str:
    """Source with control characters (other than newline and tab) shown as escapes, never sent to the terminal."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), source)


class CodeBlock:
    """Syntax-highlighted with file line numbers on a terminal; otherwise the text itself, byte for byte."""

    def __init__(self, source: str, start_line: int) -> None:
        self.source = visible_code(source)
        self.start_line = start_line

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if console.is_terminal:
            from rich.syntax import (
                Syntax,  # pygments: only worth importing when there is a terminal to colour
            )

            yield Syntax(self.source.rstrip("\n"), "python", line_numbers=True, start_line=self.start_line,
                         background_color="default")
        else:
            yield Segment(self.source if self.source.endswith("\n") else self.source + "\n")


def _comment(*parts: str | Text, style: str = "dim") -> Text:
    line = Text()
    line.append("# ", style=style)
    for part in parts:
        line.append_text(part if isinstance(part, Text) else safe_text(part, style))
    return line


def _block_header(block: MethodSource) -> Text:
    where = f"  {block.file}:{block.lineno}-{block.end_lineno}"
    if block.kind == "class":
        return _comment(Text(f"class {block.name}", style="bold cyan"), where)
    title = Text(f"{block.inherited_via[0] if block.inherited_via else block.defined_in}.{block.name}",
                 style="bold cyan")
    if not block.inherited_via:
        return _comment(title, where)
    inherited = Text(f"  inherited from {block.defined_in}", style="yellow")
    if len(block.inherited_via) > 2:  # the MRO path says how: GPT2LMHeadModel -> ... -> GenerationMixin
        inherited.append(f" (MRO: {' -> '.join(block.inherited_via)})", style="dim")
    return _comment(title, inherited, where)


def _param_name(param: InputParam) -> str:
    return {"**kwargs": "**", "*args": "*"}.get(param.kind, "") + param.name


def _signature_line(contract: Contract) -> str:
    names = [_param_name(p) for p in contract.inputs]
    required = [p.name for p in contract.inputs if p.required]
    return f"inputs: {', '.join(names) or '-'}  (required: {', '.join(required) or 'none'})"


def _returns_line(contract: Contract) -> str:
    if contract.output_class is None:
        return f"returns: {contract.returns or '? (not declared)'}"
    fields = ", ".join(f.name for f in contract.output_fields)
    return f"returns: {contract.output_class}" + (f"({fields})" if fields else "")


def format_dim(dim: str, sizes: dict[str, int]) -> str:
    """`vocab_size` -> `vocab_size=50257`; `num_labels+1` -> `num_labels+1=92`; symbolic names unchanged."""
    name, plus, extra = dim.partition("+")
    if name not in sizes:
        return dim
    return f"{dim}={sizes[name] + int(extra)}" if plus else f"{dim}={sizes[name]}"


def _main_output_line(contract: Contract) -> str:
    shapes = [f"{s.field} ({', '.join(format_dim(d, s.sizes) for d in s.shape)})" for s in contract.main_output]
    return "main output: " + ("; ".join(shapes) or "no shape rule for this head")


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["   " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _contract(contract: Contract, report: SourceReport, full: bool) -> Iterator[Text]:
    yield _comment(Text(f"{contract.method} contract", style="bold"), f"  ({report.model_class}, {report.auto_class})")
    if not full:
        yield _comment(_signature_line(contract))
        yield _comment(_returns_line(contract))
    else:
        yield _comment("inputs:")
        rows = [["name", "required", "default", "type", "shape (documented)"]]
        rows += [[_param_name(p), "yes" if p.required else "no", p.default or "-", p.annotation or "-", p.shape or "-"]
                 for p in contract.inputs]
        for line in _columns(rows):
            yield _comment(line)
        where = f" ({contract.output_module})" if contract.output_module else ""
        yield _comment(f"returns: {contract.output_class or contract.returns or '? (not declared)'}{where}")
        if contract.output_fields:
            rows = [["field", "type", "shape (documented)"]]
            rows += [[f.name, f.annotation or "-", f.shape or "-"] for f in contract.output_fields]
            for line in _columns(rows):
                yield _comment(line)
    yield _comment(Text(_main_output_line(contract), style="green"))
    for note in contract.notes:
        yield _comment(f"note: {note}", style="yellow")


def render_source(report: SourceReport, full_contract: bool = False) -> Iterator[RenderableType]:
    origin = "repository code" if report.remote_code else f"transformers {report.transformers_version}"
    yield _comment(Text(report.auto_class, style="bold"), " -> ",
                   Text(report.model_class, style="bold magenta" if report.remote_code else "bold green"),
                   f"  {report.file}  ({origin})")
    yield _comment(f"model: {report.model}  model_type={report.model_type or '-'}"
                   + (f"  architectures={', '.join(report.architectures)}" if report.architectures else ""))
    for note in report.notes:
        yield _comment(f"note: {note}", style="yellow")
    for block in report.methods:
        yield Text("")
        yield _block_header(block)
        yield CodeBlock(block.source, block.lineno)
    if report.contract is not None:
        yield Text("")
        yield from _contract(report.contract, report, full_contract)
