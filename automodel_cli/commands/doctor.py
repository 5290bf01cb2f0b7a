"""`amx doctor MODEL` / `amx doctor --error TEXT`: why from_pretrained fails or warns, and the fix."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..base.errors import BadInputError, ExitCode
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
    import_registered,
    index_building_status,
    reports_errors,
)


def _stdin_text() -> str | None:
    """Error text piped on stdin; None when stdin is a terminal (nothing was piped)."""
    if sys.stdin is None or sys.stdin.isatty():
        return None
    # Imported here: load_errors brings all of diagnosis, which every other command's start would pay for.
    from ..diagnosis.load_errors import MAX_TEXT

    return sys.stdin.read(MAX_TEXT)


@reports_errors
def doctor(
    model: Annotated[
        str | None,
        typer.Argument(metavar="MODEL", show_default=False,
                       help="Hub id, local directory or config.json (as for 'amx heads'). Omit it to read --error "
                            "or piped text."),
    ] = None,
    head: Annotated[
        str | None,
        typer.Option("--head", metavar="AUTOCLASS", show_default=False,
                     help="The Auto class you load with (default: the native head). Task names work too: ner, qa."),
    ] = None,
    error: Annotated[
        str | None,
        typer.Option("--error", metavar="TEXT", show_default=False,
                     help="A transformers error or warning to explain, instead of a MODEL."),
    ] = None,
    revision: RevisionOpt = None,
    token: TokenOpt = None,
    subfolder: SubfolderOpt = None,
    gguf_file: GgufFileOpt = None,
    variant: VariantOpt = None,
    imports: ImportOpt = None,
    device: DeviceOpt = None,
    json: JsonOpt = False,
) -> None:
    """Predict what `AutoXxx.from_pretrained(MODEL)` would do, or explain a loading error, with the fix.

    With MODEL: checks, before anything is downloaded, that the head fits the model type, which
    weights would be newly initialised, unused or of the wrong shape (key by key from the safetensors
    headers, else from the classes), whether the installed transformers knows the model (and is as
    new as the one that wrote it), whether repository code (auto_map) or pickle-only weights are
    involved, and whether the repository and its config.json can be reached.

    With --error TEXT, or text piped on stdin: recognises transformers' loading errors and warnings
    (unrecognized configuration class, newly initialized or unused weights, size mismatch, unknown
    model type, trust_remote_code, missing or gated repository...) and explains them the same way.

    Exit status: 0 when the load would succeed cleanly, 1 when it would fail or warn, 2 on bad input,
    3 when something it depends on (the weight files) could not be checked.

    Examples:

    \b
        amx doctor ./my-model
        amx doctor gpt2 --head AutoModelForImageClassification
        amx doctor bert-base-uncased --head ner --json
        amx doctor ./my-fp8-model --device cuda:8.9
        amx doctor --error "$(cat error.log)"
        python train.py 2>&1 | amx doctor
    """
    # Imported here, not at the top: `amx --help` and `amx heads` must not pay for this command.
    from ..diagnosis.doctor import diagnose_model, make_report
    from ..diagnosis.load_errors import diagnose_text
    from ..knowledge.head_index import load_index
    from ..knowledge.quantization.machine import parse_device
    from ..knowledge.registered import RegistrationError
    from ..render.doctor import render_doctor
    from ..render.inspect import header_progress

    target = parse_device(device) if device is not None else None
    out = Output(json_mode=json)
    if model is not None and error is not None:
        raise BadInputError("give either MODEL or --error, not both")
    text = error if model is None and error is not None else _stdin_text() if model is None else None
    if model is None and not (text or "").strip():
        raise BadInputError("nothing to diagnose: give a MODEL, --error TEXT, or pipe the error text in",
                            hint="amx doctor --help shows examples")
    misplaced = [name for name, value in (("--head", head), ("--subfolder", subfolder), ("--gguf-file", gguf_file),
                                         ("--variant", variant), ("--device", device))
                 if value is not None]
    if text is not None and misplaced:
        raise BadInputError(f"{misplaced[0]} applies to a MODEL, not to --error text")
    if text is not None and imports:
        raise BadInputError("--import applies to a MODEL, not to --error text")
    try:
        import_registered(imports, out)
        refused = None
    except RegistrationError as refusal:  # transformers refused a registration: that is the diagnosis
        refused = refusal
    index = load_index(on_build=index_building_status(out))
    if model is None:
        report = diagnose_text(text, index)
    elif refused is not None:
        report = make_report("model", model, [refused.finding], index,
                             notes=[f"--import {refused.module} stopped: {refused.detail}"])
    else:
        with header_progress(out) as progress:
            report = diagnose_model(model, index, head, revision, token, progress, subfolder, gguf_file, variant,
                                    target)
    out.emit("doctor", report, render_doctor)
    if report.verdict != "ok":
        raise typer.Exit(int(ExitCode.NOT_CHECKED if report.verdict == "unknown" else ExitCode.FAILURE))
