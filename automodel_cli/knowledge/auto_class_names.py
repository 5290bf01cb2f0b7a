"""What the user typed for an Auto class -> the Auto class(es) of the installed transformers it names.

People say `QuestionAnswering`, `causal-lm`, `question-answering` (a pipeline task) or `ner` as often as
`AutoModelForQuestionAnswering`. Names are compared case-insensitively, ignoring `-`, `_`, `.` and
spaces. A pipeline task may name several Auto classes (`automatic-speech-recognition`); the model then
decides, since usually only one of them accepts its config.
"""

from __future__ import annotations

import difflib
import functools
import re

from ..base.errors import BadInputError, UnsupportedModelError
from .heads import HeadsReport
from .tasks import SYNONYMS, short_name, task_info


def _aliases() -> dict[str, tuple[str, ...]]:
    """Short forms people use that are neither an Auto class nor a pipeline task name: tasks.SYNONYMS by name."""
    by_name: dict[str, tuple[str, ...]] = {}
    for auto_class, names in SYNONYMS.items():
        for name in names:
            by_name[name] = (*by_name.get(name, ()), auto_class)
    return by_name


ALIASES = _aliases()
_MIN_SUBSTRING = 4  # shorter fragments ('lm', 'for') match far too much to be a useful guess


def normalize(text: str) -> str:
    return re.sub(r"[\s\-_.]", "", text).lower()


def name_table(auto_classes: list[str]) -> dict[str, tuple[str, list[str]]]:
    """normalized name -> (how to show it, the Auto classes it names), for every accepted spelling."""
    return _name_table(tuple(auto_classes))


@functools.lru_cache(maxsize=4)  # a manifest asks once per head name: build the table once
def _name_table(auto_classes: tuple[str, ...]) -> dict[str, tuple[str, list[str]]]:
    table: dict[str, tuple[str, list[str]]] = {}

    def add(label: str, auto_class: str) -> None:
        shown, named = table.setdefault(normalize(label), (label, []))
        if auto_class not in named:
            named.append(auto_class)

    known = set(auto_classes)
    for auto_class in auto_classes:
        add(auto_class, auto_class)
        add(short_name(auto_class), auto_class)
        hub_task = task_info(auto_class).hub_task
        if hub_task:
            add(hub_task, auto_class)
    for alias, targets in ALIASES.items():
        for auto_class in targets:
            if auto_class in known:
                add(alias, auto_class)
    return table


def auto_class_candidates(text: str, auto_classes: list[str]) -> list[str]:
    """The Auto classes `text` may mean (several only for task names and fragments); BadInputError if none."""
    table = name_table(auto_classes)
    key = normalize(text)
    if key in table:
        return list(table[key][1])
    if len(key) >= _MIN_SUBSTRING:
        fragment_of = [auto for name, (_, named) in table.items() if key in name for auto in named]
        if fragment_of:
            return list(dict.fromkeys(fragment_of))
    suggestions: dict[tuple[str, ...], str] = {}  # one spelling per distinct meaning, closest first
    for name in difflib.get_close_matches(key, list(table), n=10, cutoff=0.6):
        suggestions.setdefault(tuple(table[name][1]), table[name][0])
    shown = ", ".join(list(suggestions.values())[:5])
    raise BadInputError(
        f"unknown Auto class {text!r}" + (f"; did you mean: {shown}?" if shown else ""),
        hint="run 'amx heads MODEL' for the Auto classes that fit a model; short forms such as "
        "'QuestionAnswering', 'causal-lm' or a pipeline task ('text-classification') work too",
    )


def auto_class_for_model(text: str, auto_classes: list[str], report: HeadsReport) -> str:
    """The Auto class `text` names for this model: what every command's head argument goes through.

    Of several candidates (a task name, a fragment) the one the model supports wins, the native head if
    several do; several that all fit is ambiguous (BadInputError, exit 2). A name of exactly one Auto class
    is returned even when the model does not support it: the caller says so in its own way (`amx source`
    exits 1, `amx doctor` reports unsupported-head, `amx check` fails the model). Several candidates none of
    which fits is a "no" (UnsupportedModelError, exit 1, listing the supported heads).
    """
    supported = [head.auto_class for head in report.heads]
    candidates = auto_class_candidates(text, list(dict.fromkeys([*auto_classes, *supported])))
    fitting = [auto for auto in candidates if auto in supported]
    if len(candidates) == 1:
        return candidates[0]
    if len(fitting) == 1:
        return fitting[0]
    if report.native_head in fitting:
        return report.native_head
    if fitting:
        raise BadInputError(
            f"{text!r} is ambiguous for {report.model}: it could be {', '.join(fitting)}",
            hint="give the full Auto class name",
        )
    raise not_supported(f"{text!r} ({', '.join(candidates)})", report)


def not_supported(asked: str, report: HeadsReport) -> UnsupportedModelError:
    """The "no" for a head the model does not accept, with the heads it does."""
    supported = [head.auto_class for head in report.heads]
    example = report.native_head or (supported[0] if supported else None)
    return UnsupportedModelError(
        f"{asked} does not accept {report.model} (model_type={report.model_type or '?'}); "
        f"supported heads: {', '.join(dict.fromkeys(supported)) or 'none'}",
        hint=f"pick a supported head, e.g. amx source {example} {report.model}" if example else None,
    )


def read_as(text: str, auto_class: str) -> str | None:
    """A note when a short form was read as an Auto class (`--head 'ner' read as AutoModelForTokenClassification`)."""
    return None if normalize(text) == normalize(auto_class) else f"--head {text!r} read as {auto_class}"
