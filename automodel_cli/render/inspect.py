"""Human rendering of an InspectReport, and the header-reading progress bar."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ..analysis.report import GgufReport, HeadCheck, HeaderFacts, InspectReport
from ..base.units import human_bytes, human_count
from ..formats.param_groups import ModuleNode
from . import Output, safe_text
from .kv_cache import kv_cache_line
from .moe import active_parameters
from .repository import (
    render_adapter,
    render_adapter_tensors,
    render_components,
    render_modules,
)

MAX_LISTED_KEYS = 12


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(size) for size in shape) + "]"


def _field(value: int | None) -> str:
    return f"{value:,}" if value is not None else "-"


def render_header_facts(facts: HeaderFacts, model: str) -> Iterator[RenderableType]:
    """The first answer of `amx inspect`: what the headers say, shown while the rest is worked out."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    _checkpoint_row(table, facts.checkpoint_format, facts.checkpoint_files, facts.checkpoint_bytes)
    table.add_row("tensors", f"{facts.tensors:,}: {human_count(facts.parameters)} parameters as stored  "
                             f"({facts.parameters:,})")
    _dtypes_row(table, facts.dtypes)
    title = safe_text(model, "bold")
    title.append(f"  (from the {facts.checkpoint_format} header{'' if facts.gguf else 's'})", style="dim")
    yield Panel(table, title=title, title_align="left", expand=False)
    if facts.gguf is not None:
        yield from _gguf_header(facts.gguf)


def _checkpoint_row(table: Table, checkpoint_format: str, files: list[str], size: int | None) -> None:
    if size is not None:
        table.add_row("checkpoint", f"{human_bytes(size)} in {len(files)} "
                                    f"{checkpoint_format} file{'s' if len(files) != 1 else ''}")


def _dtypes_row(table: Table, dtypes: dict[str, int]) -> None:
    table.add_row("dtypes", ", ".join(f"{dtype} ({human_count(n)})" for dtype, n in dtypes.items()) or "-")


def _summary(report: InspectReport, headers_shown: bool) -> Panel:
    """The model's panel; `headers_shown`: without what `render_header_facts` showed before it."""
    s = report.summary
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    if report.components is not None:
        table.add_row("class", safe_text(s.architecture or "-", "cyan"))
    else:
        _config_rows(table, report)
    total = Text(f"{human_count(report.total_parameters)}  ({report.total_parameters:,})", style="bold green")
    table.add_row("parameters", total)
    if report.embedding_parameters is not None:
        table.add_row("  embedding", f"{human_count(report.embedding_parameters)}  ({report.embedding_parameters:,})")
        table.add_row("  non-embedding",
                      f"{human_count(report.non_embedding_parameters)}  ({report.non_embedding_parameters:,})")
    if report.moe is not None:
        table.add_row("  active", active_parameters(report.moe))
    if report.towers:
        towers = [safe_text(name) + Text(f" {human_count(count)}") for name, count in report.towers.items()]
        table.add_row("  towers", Text(", ").join(towers))
    if not headers_shown:
        _checkpoint_row(table, report.checkpoint_format, report.checkpoint_files, report.checkpoint_bytes)
        _dtypes_row(table, report.dtypes)
    if report.quantization is not None:
        q = report.quantization
        table.add_row("quantization", safe_text(q.method + (f", {q.bits}-bit" if q.bits else "")
                                                + (f"; unpacks to {human_count(q.unpacked_parameters)} parameters"
                                                   if q.unpacked_parameters else "")))
        if q.load is not None:
            table.add_row("loading here" if q.device is None else "loading", _load_line(q))
    if headers_shown:
        title = Text("config and parameters", style="bold")
    else:
        title = safe_text(report.model, "bold")
        title.append(f"  (from {report.source})", style="dim")
    return Panel(table, title=title, title_align="left", expand=False)


def _load_line(q) -> Text:
    """What from_pretrained does with the quantized checkpoint on this machine, and the memory it takes."""
    line = _load_outcome(q)
    if q.device is not None:
        line.append(f"  (on {q.device}, with the packages installed here)", style="dim")
    return line


def _load_outcome(q) -> Text:
    if q.load == "fails":
        line = Text("fails: ", style="bold red")
        line.append_text(safe_text(q.reason))
        if q.missing_packages and "pip install" not in q.reason:
            line.append_text(safe_text(f" (pip install {' '.join(q.missing_packages)})"))
        return line
    memory = f": {human_bytes(q.loaded_memory_bytes)}" if q.loaded_memory_bytes is not None else ""
    if q.load == "dequantized":
        dtype = q.loaded_dtype or "the checkpoint's float dtype (config.json names none)"
        return Text(f"dequantized to {dtype} by {q.quantizer}{memory}", style="yellow")
    return Text(f"kept quantized by {q.quantizer}{memory}", style="green")


def _config_rows(table: Table, report: InspectReport) -> None:
    s = report.summary
    table.add_row("model_type", safe_text(s.model_type or "-", "cyan"))
    table.add_row("architecture", safe_text(s.architecture or "-", "cyan"))
    table.add_row("layers", _field(s.layers))
    table.add_row("hidden size", _field(s.hidden_size))
    heads = _field(s.attention_heads)
    if s.key_value_heads and s.attention_heads and s.key_value_heads != s.attention_heads:
        heads += f"  ({s.key_value_heads} key/value heads: grouped-query attention)"
    table.add_row("attention heads", heads)
    table.add_row("head dim", _field(s.head_dim))
    table.add_row("vocabulary", _field(s.vocab_size))
    table.add_row("context length", _field(s.context_length))
    table.add_row("intermediate size", _field(s.intermediate_size))


def _own_dtype_label(report: InspectReport) -> str:
    q = report.quantization
    packing = q.method + (f" {q.bits}-bit" if q.bits else "") if q is not None else report.checkpoint_dtype
    if report.source in ("safetensors", "gguf"):
        return f"checkpoint ({packing})"
    return f"{packing} (estimate)" if q is not None else f"as configured ({packing})"


def _memory(report: InspectReport) -> Iterator[RenderableType]:
    table = Table(title="Memory for the weights", title_justify="left", show_edge=False, header_style="bold")
    table.add_column("dtype", no_wrap=True)
    table.add_column("bytes", justify="right", no_wrap=True)
    for key, value in report.memory_bytes.items():
        table.add_row(safe_text(_own_dtype_label(report)) if key == "checkpoint" else key, human_bytes(value))
    q = report.quantization
    if q is not None and q.loaded_memory_bytes is not None:
        how = f"dequantized, {q.loaded_dtype}" if q.load == "dequantized" else f"quantized, the rest {q.loaded_dtype}"
        table.add_row(f"loaded here ({how})", human_bytes(q.loaded_memory_bytes), style="bold")
    yield table
    if report.kv_cache is not None:
        yield kv_cache_line(report.kv_cache)


def _gguf_header(g: GgufReport) -> Iterator[RenderableType]:
    """The GGUF header's facts: architecture, quantization per tensor type."""
    line = Text("GGUF ", style="bold")
    line.append_text(safe_text(g.file, "bold"))
    line.append(f"  v{g.version}, architecture ")
    line.append_text(safe_text(g.architecture, "cyan"))
    line.append(f", {g.quantization or '?'}")
    if g.bits_per_weight is not None:
        line.append(f", {g.bits_per_weight:.2f} bits per weight")
    line.append(f"; header {human_bytes(g.header_bytes)}, {human_bytes(g.bytes_read)} read", style="dim")
    yield line
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in ("GGML type", "tensors", "parameters", "bytes", "bits/weight"):
        table.add_column(column, justify="left" if column == "GGML type" else "right", no_wrap=True)
    for name, stats in g.tensor_types.items():
        table.add_row(safe_text(name), str(stats.tensors), human_count(stats.parameters), human_bytes(stats.bytes),
                      f"{stats.bits_per_weight:.2f}")
    yield table


def _gguf_loading(g: GgufReport) -> Iterator[RenderableType]:
    """What transformers makes of a GGUF file."""
    if g.transformers_loadable:
        line = Text(f"transformers loads it as {g.model_type}", style="green")
        line.append(f", dequantized to {g.dequantized_dtype}: {human_bytes(g.dequantized_bytes)}", style="")
    else:
        line = safe_text(g.reason, "red")
    yield line
    yield Text("")


def _parameters(report: InspectReport, grouped: bool) -> Table:
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("tensor", overflow="fold")
    table.add_column("shape", no_wrap=True)
    table.add_column("dtype", no_wrap=True)
    table.add_column("×", justify="right", no_wrap=True)
    table.add_column("parameters", justify="right", no_wrap=True)
    rows = report.groups if grouped else report.parameters
    for row in rows:
        count = getattr(row, "count", 1)
        style = "dim" if row.buffer else ""
        table.add_row(safe_text(row.name, style), _shape(row.shape), Text(row.dtype, style=style),
                      f"×{count}" if count > 1 else "",
                      Text("buffer", style="dim") if row.buffer else human_count(row.numel))
    return table


def _keys(label: str, keys: list[str], style: str) -> Text:
    line = Text(f"  {label} ({len(keys)}): ", style=style)
    shown = keys[:MAX_LISTED_KEYS]
    line.append_text(safe_text(", ".join(shown)))
    if len(keys) > len(shown):
        line.append(f", ... {len(keys) - len(shown)} more (--json lists all)", style="dim")
    return line


def head_lines(head: HeadCheck) -> Iterator[RenderableType]:
    title = Text("head ", style="bold")
    title.append_text(safe_text(head.auto_class, "bold green"))
    title.append(" → ")
    title.append_text(safe_text(head.model_class))
    if head.num_parameters is not None:
        title.append(f"  ({head.num_parameters:,} parameters)", style="dim")
    yield title
    if head.predicted:
        if not (head.missing_keys or head.unexpected_keys or head.mismatched_keys):
            yield Text("  every weight of this head is in the checkpoint, and nothing is left over", style="green")
        if head.missing_keys:
            yield _keys("newly initialised", head.missing_keys, "yellow")
        if head.unexpected_keys:
            yield _keys("unused", head.unexpected_keys, "dim")
        for mismatch in head.mismatched_keys or []:
            line = Text("  shape mismatch: ", style="red")
            line.append_text(safe_text(mismatch.name))
            line.append(f" checkpoint {_shape(mismatch.checkpoint_shape)} vs model {_shape(mismatch.model_shape)}")
            yield line
    if head.note:
        yield Text(f"  {head.note}", style="red" if head.refused else "dim")


def _tree_label(node: ModuleNode) -> Text:
    label = safe_text(node.name or "(model)", "bold")
    label.append(f"  {human_count(node.parameters)}", style="green")
    if node.count > 1:
        label.append(f"  ×{node.count}, {human_count(node.parameters // node.count)} each", style="dim")
    return label


def _tree(node: ModuleNode, branch: Tree | None = None) -> Tree:
    branch = branch if branch is not None else Tree(_tree_label(node))
    for child in node.children:
        _tree(child, branch.add(_tree_label(child)))
    return branch


def render_inspect(report: InspectReport, grouped: bool = True,
                   headers_shown: bool = False) -> Iterator[RenderableType]:
    """The report; `headers_shown`: the rest of it, after `render_header_facts` showed the headers' part."""
    yield _summary(report, headers_shown)
    if report.gguf is not None:
        if not headers_shown:
            yield from _gguf_header(report.gguf)
        yield from _gguf_loading(report.gguf)
    if report.adapter is not None:
        yield from render_adapter(report.adapter)
    if report.modules is not None:
        yield from render_modules(report.modules, report.embedding_dimension)
    if report.components is not None:
        yield from render_components(report.components)
    yield from _memory(report)
    yield Text("")
    yield _tree(report.tree) if report.tree is not None else _parameters(report, grouped)
    if report.adapter is not None and report.adapter.tensors:
        yield Text("")
        yield render_adapter_tensors(report.adapter)
    if report.head is not None:
        yield Text("")
        yield Group(*head_lines(report.head))
    for note in report.notes:
        line = Text("note: ", style="yellow")
        line.append_text(safe_text(note))
        yield line


class HeaderBar:
    """A progress callback for reading shard headers, drawn on stderr. While it is drawn, rich sends what is
    printed to stdout through stderr's display: `stop()` it before printing."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.task is None:
            self.task = self.progress.add_task("headers", total=total)
        self.progress.update(self.task, completed=done, total=total)

    def stop(self) -> None:
        self.progress.stop()


@contextlib.contextmanager
def header_progress(out: Output) -> Iterator[HeaderBar | None]:
    """A progress bar for reading shard headers, on stderr when it is a terminal (else None)."""
    if not out.stderr.is_terminal:
        yield None
        return
    progress = Progress(TextColumn("reading safetensors headers"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=out.stderr, transient=True)
    with progress:
        yield HeaderBar(progress)


class FirstAnswer:
    """`amx inspect`'s headers callback: what the headers say, printed and flushed as soon as it is known."""

    def __init__(self, out: Output, bar: HeaderBar | None, model: str):
        self.out, self.bar, self.model = out, bar, model
        self.shown = False

    def __call__(self, facts: HeaderFacts) -> None:
        if self.bar is not None:
            self.bar.stop()
        self.out.show(render_header_facts(facts, self.model))
        self.shown = True
