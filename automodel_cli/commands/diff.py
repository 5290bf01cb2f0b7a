"""`amx diff A B`: what changed between two models, or two revisions of one, without downloading weights."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from ..base.errors import ExitCode
from ..render import Output
from .common import (
    GgufFileOpt,
    JsonOpt,
    SubfolderOpt,
    TokenOpt,
    index_building_status,
    reports_errors,
)


class Side(str, Enum):
    a = "a"
    b = "b"


def _model_argument(side: str) -> typer.Argument:
    return typer.Argument(metavar=side, show_default=False,
                          help=f"Model {side}: a Hub id (org/name, org/name@rev), a local directory or a config.json.")


@reports_errors
def diff(
    model_a: Annotated[str, _model_argument("A")],
    model_b: Annotated[str, _model_argument("B")],
    token: TokenOpt = None,
    subfolder: SubfolderOpt = None,
    gguf_file: GgufFileOpt = None,
    all_fields: Annotated[bool, typer.Option(
        "--all-fields", help="Also list config fields absent on one side at that side's class default, and the "
                             "bookkeeping fields (transformers_version, _name_or_path): neither is a difference.")
    ] = False,
    load_into: Annotated[Side | None, typer.Option(
        "--load-into", metavar="a|b", show_default=False,
        help="Predict what loading the other model's checkpoint into this side's native head leaves newly "
             "initialised, unused or mismatched, as from_pretrained reports it.")] = None,
    json: JsonOpt = False,
) -> None:
    """Show what changed between models A and B: config fields, heads, tensors and totals.

    Reads what `amx inspect` reads of each (config.json and the safetensors headers), never the
    weights: two checkpoints that differ only in weight values have the same structure. Exits 0
    when structure and config are the same, 1 when they differ, 2 when a model cannot be read.
    --subfolder and --gguf-file apply to both models; name revisions as MODEL@REV.

    Examples:

    \b
        amx diff meta-llama/Llama-3.1-8B ./my-finetune
        amx diff org/model@v1.0 org/model@main
        amx diff ./base ./merged --load-into a
        amx diff gpt2 distilgpt2 --json | jq '.config'
    """
    # Imported here, not at the top: `amx --help` and `amx heads` must not pay for this command.
    from ..analysis.diff import diff_repositories, on_side
    from ..knowledge.head_index import load_index
    from ..render.diff import render_diff
    from ..render.inspect import header_progress
    from ..repository.dispatch import resolve_repository

    out = Output(json_mode=json)
    repository_a, repository_b = (
        on_side(label, text, lambda text=text: resolve_repository(text, None, token, subfolder, gguf_file))
        for label, text in (("A", model_a), ("B", model_b)))
    index = load_index(on_build=index_building_status(out))
    with header_progress(out) as progress:
        report = diff_repositories(repository_a, repository_b, index, token=token, all_fields=all_fields,
                                   load_into=load_into.value if load_into is not None else None, progress=progress)
    out.emit("diff", report, render_diff)
    if not report.same:
        raise typer.Exit(int(ExitCode.FAILURE))
