"""`amx tasks [QUERY]`: which Auto class does a task, with its pipeline, inputs and output."""

from __future__ import annotations

from typing import Annotated

import typer

from ..render import Output
from .common import JsonOpt, index_building_status, reports_errors


@reports_errors
def tasks(
    query: Annotated[
        str | None,
        typer.Argument(metavar="QUERY", help="A task, pipeline or Auto class name, or a synonym such as 'ner'.",
                       show_default=False),
    ] = None,
    model_types: Annotated[
        bool, typer.Option("--model-types", help="List the model types (and classes) that support each match.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Every task the installed transformers supports, or the Auto class for one task.

    Without QUERY: all Auto model classes grouped by modality, with pipeline, inputs and main
    output. With QUERY: the matching Auto class(es), a short code example, and how many model
    types support it. QUERY is matched forgivingly against task names, pipeline names and
    common synonyms (ner, qa, summarization, translation, asr, tts...), typos included.

    Examples:

    \b
        amx tasks
        amx tasks ner
        amx tasks "question answering"
        amx tasks translation --model-types
        amx tasks image-classification --json | jq '.tasks[0].auto_class'
    """
    # Imported here, not at the top: `amx --help` and `amx heads` must not pay for this command.
    from ..knowledge.head_index import load_index
    from ..knowledge.task_search import find_tasks, list_tasks
    from ..render.tasks import render_tasks

    out = Output(json_mode=json)
    index = load_index(on_build=index_building_status(out))
    report = list_tasks(index) if query is None else find_tasks(query, index, with_model_types=model_types)
    out.emit("tasks", report, render_tasks)
    if report.other_library is not None:  # "which Auto class does it?": none
        raise typer.Exit(1)
