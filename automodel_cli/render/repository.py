"""Human rendering of what a repository's shape adds: the adapter, the sentence-transformers module chain,
the pipeline's components."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from ..base.units import human_bytes, human_count
from ..formats.param_groups import group_tensors
from ..shapes.adapter import AdapterInfo
from ..shapes.pipeline import Component
from ..shapes.sentence_transformers import SentenceModule
from . import safe_text


def _count(value: int | None) -> str:
    return "-" if value is None else f"{human_count(value)}" if value >= 1000 else str(value)


def _names(value: list[str] | str | None) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else ", ".join(value) or "-"


def render_adapter(adapter: AdapterInfo) -> Iterator[RenderableType]:
    line = Text("adapter ", style="bold")
    line.append_text(safe_text(adapter.peft_type or "unknown peft type", "magenta"))
    if adapter.rank is not None:
        line.append(f"  r={adapter.rank}")
    if adapter.alpha is not None:
        line.append(f"  alpha={adapter.alpha:g}")
    line.append("  task ")
    line.append_text(safe_text(adapter.task_type or "-", "cyan"))
    if adapter.task_head:
        line.append(f" → {adapter.task_head}")
    yield line
    base = Text("  base model ")
    base.append_text(safe_text(adapter.base_model, "cyan"))
    if adapter.base_revision:
        base.append_text(safe_text(f"@{adapter.base_revision}"))
    if adapter.embedded_base:
        base.append(" (the adapter's folder holds config.json: transformers loads the base from it)", style="dim")
    elif adapter.base_reference and adapter.base_reference != adapter.base_model:
        base.append_text(safe_text(f"  ({adapter.base_reference})", "dim"))
    yield base
    targets = Text("  target modules ")
    targets.append_text(safe_text(_names(adapter.target_modules)))
    targets.append("   modules_to_save ")
    targets.append_text(safe_text(_names(adapter.modules_to_save)))
    yield targets
    if adapter.num_parameters is not None:
        share = f" = {adapter.base_share:.2%} of the base model" if adapter.base_share is not None else ""
        loaded = adapter.loaded_parameters
        dropped = f" saved, {loaded:,} loaded" if loaded is not None and loaded != adapter.num_parameters else ""
        yield Text(f"  adapter parameters {adapter.num_parameters:,}{dropped}{share}  "
                   f"({', '.join(adapter.files)}, {len(adapter.tensors)} tensors)", style="green")
    if adapter.missing_target_modules:
        yield Text(f"  target modules not in the model: {', '.join(adapter.missing_target_modules)}", style="red")


def render_adapter_tensors(adapter: AdapterInfo) -> Table:
    table = Table(title="adapter tensors", title_justify="left", show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("tensor", overflow="fold")
    table.add_column("shape", no_wrap=True)
    table.add_column("dtype", no_wrap=True)
    table.add_column("×", justify="right", no_wrap=True)
    table.add_column("parameters", justify="right", no_wrap=True)
    for group in group_tensors(adapter.tensors):
        table.add_row(safe_text(group.name), f"[{', '.join(map(str, group.shape))}]", group.dtype,
                      f"×{group.count}" if group.count > 1 else "", human_count(group.numel))
    return table


def render_modules(modules: list[SentenceModule], embedding_dimension: int | None) -> Iterator[RenderableType]:
    chain = Text("modules ", style="bold")
    for position, module in enumerate(modules):
        if position:
            chain.append(" → ")
        chain.append_text(safe_text(module.type, "cyan"))
        if module.description:
            chain.append_text(safe_text(f"({module.description})"))
    yield chain
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("module", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("path", no_wrap=True)
    table.add_column("parameters", justify="right", no_wrap=True)
    table.add_column("output", justify="right", no_wrap=True)
    for module in modules:
        table.add_row(safe_text(module.name), safe_text(module.type), safe_text(module.path or "."),
                      _count(module.num_parameters),
                      str(module.output_dimension) if module.output_dimension is not None else "")
    yield table
    total = sum(m.num_parameters or 0 for m in modules)
    yield Text(f"embedding dimension {embedding_dimension if embedding_dimension is not None else '?'}"
               f"   all modules: {total:,} parameters", style="bold green")


def render_components(components: list[Component]) -> Iterator[RenderableType]:
    table = Table(title="components", title_justify="left", show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("component", no_wrap=True)
    table.add_column("library", no_wrap=True)
    table.add_column("class", no_wrap=True)
    table.add_column("parameters", justify="right", no_wrap=True)
    table.add_column("float32", justify="right", no_wrap=True)
    table.add_column("bfloat16", justify="right", no_wrap=True)
    table.add_column("as stored", justify="right", no_wrap=True)
    for c in components:
        memory = c.memory_bytes or {}
        table.add_row(safe_text(c.name, "bold"), safe_text(c.library or "-"), safe_text(c.class_name or "-"),
                      _count(c.num_parameters), human_bytes(memory.get("float32")), human_bytes(memory.get("bfloat16")),
                      human_bytes(memory.get("checkpoint")))
    yield table
