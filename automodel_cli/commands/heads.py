"""`amx heads MODEL`: every Auto head that fits the model, the native one, and what would be new."""

from __future__ import annotations

from itertools import chain
from typing import Annotated

import typer

from ..analysis.heads import heads_for_repository
from ..knowledge.head_index import load_index
from ..knowledge.processors import find_processors
from ..render import Output, to_jsonable
from ..render.heads import render_heads
from ..render.processors import render_processors
from ..repository.dispatch import resolve_repository
from .common import (
    GgufFileOpt,
    ImportOpt,
    JsonOpt,
    ModelArg,
    RevisionOpt,
    SubfolderOpt,
    TokenOpt,
    VariantOpt,
    import_registered,
    index_building_status,
    reports_errors,
)


@reports_errors
def heads(
    model: ModelArg,
    revision: RevisionOpt = None,
    token: TokenOpt = None,
    subfolder: SubfolderOpt = None,
    imports: ImportOpt = None,
    processors: Annotated[bool, typer.Option(
        "--processors", help="Also show the preprocessing Auto classes (AutoTokenizer, AutoProcessor...) that apply.")
    ] = False,
    check_weights: Annotated[bool, typer.Option(
        "--check-weights",
        help="Read the safetensors headers and build each head on the meta device, so 'new weights' is exactly "
             "what from_pretrained would initialise (slower: imports torch).")] = False,
    gguf_file: GgufFileOpt = None,
    variant: VariantOpt = None,
    json: JsonOpt = False,
) -> None:
    """List the AutoModel classes that can load MODEL, from its config.json alone.

    The native head (★) is the one the checkpoint was trained with, as on the Hub's
    "Use this model" button. "new weights: yes" means that head starts from random
    weights and needs fine-tuning. Nothing is downloaded but config.json, and no
    repository code is run.

    Examples:

    \b
        amx heads bert-base-uncased
        amx heads ./examples/gpt2 --json | jq '.heads[] | select(.native)'
        amx heads facebook/bart-large-cnn --revision main
        amx heads openai/whisper-tiny --processors
        amx heads ./my-checkpoint --check-weights
        amx heads stabilityai/sdxl-turbo --subfolder text_encoder_2
        amx heads ./my-lora-adapter
        amx heads TheBloke/Llama-2-7B-GGUF --gguf-file llama-2-7b.Q8_0.gguf
    """
    out = Output(json_mode=json)
    import_registered(imports, out)
    repository = resolve_repository(model, revision, token, subfolder, gguf_file, variant)
    if repository.from_cache:
        out.message(f"the Hub could not be asked; using the cached config.json of {repository.display()}")
    index = load_index(on_build=index_building_status(out))
    report = heads_for_repository(repository, index)
    resolved = repository.resolved
    if check_weights and resolved is not None:
        from ..analysis.inspection import check_heads_against_checkpoint
        from ..render.inspect import header_progress

        with header_progress(out) as progress:
            check_heads_against_checkpoint(report, resolved, token=token, progress=progress,
                                           adapter_ref=repository.ref if repository.adapter else None)
    if processors and resolved is not None:
        found = find_processors(resolved.ref if repository.adapter is None else repository.ref, resolved.config,
                                index, token)
        out.emit("heads", {**to_jsonable(report), "preprocessing": to_jsonable(found)},
                 lambda _: chain(render_heads(report), render_processors(found)))
        return
    out.emit("heads", report, render_heads)
