"""`amx check`: a model-compatibility gate for CI, from a manifest or from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..base.errors import BadInputError, ManifestError
from ..render import Output
from .common import (
    DeviceOpt,
    GgufFileOpt,
    ImportOpt,
    JsonOpt,
    RevisionOpt,
    SubfolderOpt,
    TokenOpt,
    VariantOpt,
    index_building_status,
    reports_errors,
)


def _option_name(path: tuple) -> str:
    key = path[-1] if len(path) > 2 else "model"
    return {"model": "MODEL", "heads": "--head"}.get(key, f"--{key}")


@reports_errors
def check(
    models: Annotated[list[str] | None, typer.Argument(
        metavar="MODEL", show_default=False,
        help="Models to check instead of a manifest (Hub ids or local directories).")] = None,
    head: Annotated[list[str] | None, typer.Option(
        "--head", "-H", metavar="AUTOCLASS", show_default=False,
        help="An Auto class the project loads MODEL with, or a short form such as causal-lm or ner "
             "(repeatable).")] = None,
    manifest: Annotated[Path | None, typer.Option(
        "--manifest", "-m", metavar="FILE", show_default=False, dir_okay=False,
        help="Manifest to read (default: ./amx.toml, else [tool.amx] in ./pyproject.toml).")] = None,
    junit_xml: Annotated[Path | None, typer.Option(
        "--junit-xml", metavar="FILE", show_default=False, dir_okay=False,
        help="Also write a JUnit XML report to this file.")] = None,
    max_parameters: Annotated[str | None, typer.Option(
        "--max-parameters", metavar="COUNT", show_default=False,
        help="e.g. 7B, 110M.")] = None,
    max_memory: Annotated[str | None, typer.Option(
        "--max-memory", metavar="SIZE", show_default=False,
        help="Weight memory, e.g. 16GB, 8GiB.")] = None,
    max_active_parameters: Annotated[str | None, typer.Option(
        "--max-active-parameters", metavar="COUNT", show_default=False,
        help="Parameters used per token (a mixture of experts; a dense model uses all), e.g. 4B.")] = None,
    max_kv_cache: Annotated[str | None, typer.Option(
        "--max-kv-cache", metavar="SIZE@TOKENS", show_default=False,
        help="KV cache of one sequence of TOKENS tokens, e.g. 8GiB@32768.")] = None,
    dtype: Annotated[str | None, typer.Option(
        "--dtype", metavar="DTYPE", show_default=False,
        help="dtype of --max-memory (default: the checkpoint's).")] = None,
    native_head: Annotated[str | None, typer.Option(
        "--native-head", metavar="AUTOCLASS", show_default=False,
        help="The Auto class the checkpoint must have been trained for.")] = None,
    require_safetensors: Annotated[bool, typer.Option(
        "--require-safetensors", help="Fail on pickle-only (.bin) weights.")] = False,
    loadable: Annotated[bool, typer.Option(
        "--loadable", help="Fail when from_pretrained would raise for the quantization here (or on --device).")] = False,
    max_loaded_memory: Annotated[str | None, typer.Option(
        "--max-loaded-memory", metavar="SIZE", show_default=False,
        help="Weight memory once loaded here (dequantized, if the load dequantizes), e.g. 24GiB.")] = None,
    no_remote_code: Annotated[bool, typer.Option(
        "--no-remote-code", help="Fail if loading needs the repository's code.")] = False,
    min_transformers: Annotated[str | None, typer.Option(
        "--min-transformers", metavar="VERSION", show_default=False,
        help="Lowest transformers version allowed.")] = None,
    max_transformers: Annotated[str | None, typer.Option(
        "--max-transformers", metavar="VERSION", show_default=False,
        help="Inclusive; '5' allows every 5.x.")] = None,
    revision: RevisionOpt = None,
    token: TokenOpt = None,
    subfolder: SubfolderOpt = None,
    gguf_file: GgufFileOpt = None,
    variant: VariantOpt = None,
    imports: ImportOpt = None,
    device: DeviceOpt = None,
    json: JsonOpt = False,
) -> None:
    """Check, before any weights are downloaded, that the models a project loads still fit it.

    Reads amx.toml (or `[tool.amx]` in pyproject.toml): each `[[models]]` entry names a model, the
    heads the project loads it with, and optional constraints. Each model passes, fails (with the
    reason and a fix) or could not be checked. Exit status: 0 all passed, 1 a model failed,
    2 bad usage or manifest, 3 none failed but some could not be checked (network,
    malformed files). With GITHUB_ACTIONS=true failures are also annotations on the manifest.
    The constraints (--max-parameters to --max-transformers) apply to MODEL arguments; in a
    manifest they are keys. --device checks loadable and max-loaded-memory for another machine.

    Examples:

    \b
        amx check
        amx check --manifest ci/amx.toml --junit-xml amx-check.xml
        amx check dslim/bert-base-NER --head ner --max-parameters 120M
        amx check --manifest amx.toml --device cuda:8.9
    """
    # Imported here, not at the top: `amx --help` and `amx heads` must not pay for this command.
    from ..diagnosis.check import check_models
    from ..diagnosis.manifest import Source, parse_entries
    from ..knowledge.head_index import load_index
    from ..knowledge.quantization.machine import parse_device
    from ..render.check import (
        annotation,
        github_annotations,
        in_github_actions,
        progress_bar,
        render_check,
        write_junit,
    )

    target = parse_device(device) if device is not None else None
    out = Output(json_mode=json)
    options = {"heads": head, "revision": revision, "subfolder": subfolder, "gguf-file": gguf_file,
               "variant": variant, "max-parameters": max_parameters, "max-memory": max_memory,
               "max-active-parameters": max_active_parameters, "max-kv-cache": max_kv_cache,
               "dtype": dtype, "native-head": native_head, "require-safetensors": require_safetensors or None,
               "loadable": loadable or None, "max-loaded-memory": max_loaded_memory,
               "allow-remote-code": False if no_remote_code else None, "min-transformers": min_transformers,
               "max-transformers": max_transformers}
    options = {key: value for key, value in options.items() if value is not None}
    indexing = index_building_status(out)
    try:
        if models:
            if manifest is not None:
                raise BadInputError("give MODEL arguments or --manifest, not both")
            index = load_index(on_build=indexing)
            source = Source("command line", Path.cwd(), key_name=_option_name)
            selected = parse_entries([{"model": model, **options} for model in models], source, index)
        elif options:
            raise BadInputError(f"--{next(iter(options)).replace('heads', 'head')} needs MODEL arguments; "
                                "in a manifest, constraints are keys of its entries")
        else:
            selected = None
        with progress_bar(out.stderr) as progress:
            report = check_models(selected, manifest=manifest, token=token, progress=progress,
                                  on_index_build=indexing, imports=imports, device=target)
    except ManifestError as error:
        if in_github_actions():
            sys.stderr.write(annotation(error.message, "amx check: bad manifest", error.file, error.line) + "\n")
        raise
    if junit_xml is not None:
        write_junit(report, junit_xml)
    out.emit("check", report, render_check)
    if in_github_actions():
        sys.stderr.write("".join(line + "\n" for line in github_annotations(report)))
    raise typer.Exit(report.exit_code)
