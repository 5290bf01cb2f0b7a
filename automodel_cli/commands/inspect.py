"""`amx inspect MODEL`: parameters, dtypes, memory and what a head would load, without downloading weights."""

from __future__ import annotations

from typing import Annotated

import typer

from ..render import Output
from .common import (
    DeviceOpt,
    GgufFileOpt,
    ImportOpt,
    JsonOpt,
    ModelArg,
    RevisionOpt,
    SubfolderOpt,
    TokenOpt,
    VariantOpt,
    import_registered,
    reports_errors,
)

HeadOpt = Annotated[
    str | None,
    typer.Option("--head", help="Auto class (or a short form: causal-lm, ner) to build and compare with the "
                 "checkpoint (default: the native head).",
                 show_default=False, metavar="AUTOCLASS"),
]
TrustRemoteCodeOpt = Annotated[
    bool, typer.Option("--trust-remote-code", help="Import the repository's own model code (local directories only).")
]


@reports_errors
def inspect(
    model: ModelArg,
    revision: RevisionOpt = None,
    token: TokenOpt = None,
    subfolder: SubfolderOpt = None,
    imports: ImportOpt = None,
    head: HeadOpt = None,
    all_tensors: Annotated[bool, typer.Option("--all", help="List every tensor instead of collapsing layers.")] = False,
    pattern: Annotated[str | None, typer.Option("--filter", metavar="REGEX", show_default=False,
                                                help="Only tensors whose name matches REGEX.")] = None,
    tree: Annotated[bool, typer.Option("--tree", help="Show the module tree with parameter counts.")] = False,
    depth: Annotated[int, typer.Option("--depth", min=1, metavar="N", help="Levels of the --tree.")] = 3,
    trust_remote_code: TrustRemoteCodeOpt = False,
    gguf_file: GgufFileOpt = None,
    variant: VariantOpt = None,
    device: DeviceOpt = None,
    tokens: Annotated[int | None, typer.Option("--tokens", min=1, metavar="N", show_default=False,
                                               help="Size the KV cache for N tokens (an encoder-decoder: N "
                                                    "encoder and N decoder tokens).")] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, metavar="B", help="Sequences in the batch, "
                                                                            "for --tokens.")] = 1,
    json: JsonOpt = False,
) -> None:
    """Show what is inside MODEL: parameters, dtypes, memory, and what loading it with a head would do.

    Reads config.json and the safetensors headers only (a few KB per shard, with HTTP range
    requests on the Hub), never the weights. Without safetensors (config only, or a pickle-based
    pytorch_model.bin, which is never opened) the model is built on the meta device instead.
    A GGUF checkpoint (llama.cpp) is read from its header: tensors with their GGML types, the
    config transformers derives from its metadata, and the memory it takes once dequantized.
    The head section predicts what `from_pretrained(..., output_loading_info=True)` reports:
    newly initialised, unused and mismatched weights. What the safetensors or GGUF headers say is
    printed first, before torch or transformers is imported; the rest follows.

    Examples:

    \b
        amx inspect meta-llama/Llama-3.1-8B
        amx inspect ./my-model --filter 'layers\\.0\\.'
        amx inspect bert-base-uncased --head AutoModelForSequenceClassification
        amx inspect gpt2 --tree --depth 2
        amx inspect gpt2 --json | jq '.memory_bytes'
        amx inspect mistralai/Mistral-7B-v0.1 --tokens 32768 --batch 4
        amx inspect ./my-lora-adapter --head AutoModelForSequenceClassification
        amx inspect stabilityai/stable-diffusion-xl-base-1.0
        amx inspect TheBloke/Llama-2-7B-GGUF --gguf-file llama-2-7b.Q4_K_M.gguf
        amx inspect ./my-fp8-model --device cuda:8.9
    """
    # Imported here, not at the top: `amx --help` and `amx heads` must not pay for this command.
    from ..analysis.repository import inspect_repository
    from ..formats.param_groups import filter_tensors, group_tensors, module_tree
    from ..knowledge.quantization.machine import parse_device
    from ..render.inspect import FirstAnswer, header_progress, render_inspect
    from ..repository.dispatch import resolve_repository

    if pattern is not None:
        filter_tensors([], pattern)  # a malformed regex fails before any work
    target = parse_device(device) if device is not None else None
    out = Output(json_mode=json)
    import_registered(imports, out)
    repository = resolve_repository(model, revision, token, subfolder, gguf_file, variant)
    if repository.from_cache:
        out.message(f"the Hub could not be asked; using the cached files of {repository.display()}")
    with header_progress(out) as progress:
        # Human output shows what the headers say at once; JSON is one document, printed at the end.
        first = None if json else FirstAnswer(out, progress, repository.display())
        report = inspect_repository(repository, head=head, token=token, progress=progress,
                                    trust_remote_code=trust_remote_code, device=target, tokens=tokens, batch=batch,
                                    on_headers=first)
    if pattern is not None:
        report.parameters = filter_tensors(report.parameters, pattern)
        report.groups = group_tensors(report.parameters)
    if tree:
        report.tree = module_tree(report.parameters, depth)
    headers_shown = first is not None and first.shown
    out.emit("inspect", report, lambda data: render_inspect(data, grouped=not all_tensors, headers_shown=headers_shown))
