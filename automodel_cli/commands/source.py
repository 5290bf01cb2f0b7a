"""`amx source AUTOCLASS MODEL`: the code that runs when MODEL is loaded with AUTOCLASS, and its contract."""

from __future__ import annotations

import functools
from typing import Annotated

import typer

from ..render import Output
from .common import (
    GgufFileOpt,
    ImportOpt,
    JsonOpt,
    ModelArg,
    RevisionOpt,
    SubfolderOpt,
    TokenOpt,
    import_registered,
    index_building_status,
    reports_errors,
)

AutoClassArg = Annotated[
    str,
    typer.Argument(
        metavar="AUTOCLASS",
        help="An Auto class (AutoModelForQuestionAnswering), in any case, or a short form: "
        "QuestionAnswering, causal-lm, seq2seq, ner, or a pipeline task such as question-answering.",
        show_default=False,
    ),
]


@reports_errors
def source(
    auto_class: AutoClassArg,
    model: ModelArg,
    method: Annotated[
        list[str] | None,
        typer.Option("--method", "-m", metavar="NAME",
                     help="Show this method instead of `__init__` and `forward` (repeatable).", show_default=False),
    ] = None,
    whole_class: Annotated[bool, typer.Option("--class", help="Show the whole class.")] = False,
    contract: Annotated[
        bool,
        typer.Option("--contract", help="Show forward's full contract (inputs, output class and fields, "
                     "main output shape) instead of the code; add --method or --class for code too."),
    ] = False,
    trust_remote_code: Annotated[
        bool,
        typer.Option("--trust-remote-code",
                     help="Import a repository's own code (auto_map) to inspect it. This runs that code."),
    ] = False,
    revision: RevisionOpt = None,
    token: TokenOpt = None,
    subfolder: SubfolderOpt = None,
    gguf_file: GgufFileOpt = None,
    imports: ImportOpt = None,
    json: JsonOpt = False,
) -> None:
    """Print the code AUTOCLASS runs for MODEL: the concrete class, its `__init__` and `forward`.

    The Auto class is resolved for MODEL's config.json exactly as transformers does, without
    downloading weights. Each block names the class that defines it, the file and line range, and
    the class it is inherited from along the MRO. A short forward contract follows: inputs, output
    class and the main output's shape for this head and config.

    A repository's own code (auto_map) is parsed from its Python file and never run, unless
    --trust-remote-code is given.

    Examples:

    \b
        amx source qa distilbert/distilbert-base-uncased-distilled-squad
        amx source causal-lm ./examples/gpt2 --method generate
        amx source text-classification ./examples/distilbert-sst2 --contract
        amx source QuestionAnswering ./examples/bert-base-uncased --class | less
        amx source seq2seq ./examples/t5-small --json | jq -r '.methods[1].source'
    """
    # Imported here, not at the top: `amx --help` and `amx heads` must not pay for this command.
    from ..analysis.heads import heads_for_repository
    from ..knowledge.auto_class_names import (
        auto_class_candidates,
        auto_class_for_model,
        not_supported,
    )
    from ..knowledge.head_index import load_index
    from ..render.source import render_source
    from ..repository.dispatch import resolve_repository
    from ..source.model_source import head_for, source_report

    out = Output(json_mode=json)
    import_registered(imports, out)
    index = load_index(on_build=index_building_status(out))
    auto_class_candidates(auto_class, index.auto_classes)  # an unknown name fails before anything is fetched
    repository = resolve_repository(model, revision, token, subfolder, gguf_file)
    resolved = repository.transformers_config()
    if repository.from_cache:
        out.message(f"the Hub could not be asked; using the cached config.json of {repository.display()}")
    heads = heads_for_repository(repository, index)
    chosen = auto_class_for_model(auto_class, index.auto_classes, heads)
    if chosen not in {h.auto_class for h in heads.heads}:
        raise not_supported(chosen, heads)
    head = head_for(heads, chosen)
    methods = method or ([] if contract and not whole_class else None)  # --contract alone: no code
    with out.status(f"Reading the source of {head.model_class}"):
        report = source_report(resolved, index, heads, head, methods=methods, whole_class=whole_class,
                               trust_remote_code=trust_remote_code, token=token,
                               short_contract=not (json or contract))
    out.emit("source", report, functools.partial(render_source, full_contract=contract), page=True, soft_wrap=True)
