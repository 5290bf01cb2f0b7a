"""From "I want to do X" to the Auto class: the task catalogue of the installed transformers, and a
forgiving matcher over task names, pipeline names and synonyms (`ner`, `qa`, `translation`, typos).

Everything comes from the cached head index and the tables in tasks.py: no transformers import.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from ..base.errors import AmxError, BadInputError
from .head_index import HeadIndex
from .task_examples import code_example
from .tasks import OTHER_LIBRARY_TASKS, SYNONYMS, head_io, short_name, task_info

MODALITY_ORDER = ("text", "vision", "audio", "multimodal")
# Match tiers, best first: the query is a whole name; every query word is a word of a name;
# every query word is close to a word of a name (typos); the whole query is close to a name.
EXACT, WORDS, CLOSE_WORDS, CLOSE = 3, 2, 1, 0
_WORD_CUTOFF = 0.8
_NAME_CUTOFF = 0.75
MAX_QUERY = 200  # fuzzy matching is quadratic in the query's length


@dataclass
class TaskEntry:
    auto_class: str
    task: str
    modality: str
    pipelines: list[str]  # pipeline tasks of the installed transformers that load this Auto class
    hub_task: str | None  # the Hub's task tag ("pipeline_tag") for models with this head
    inputs: str
    output: str
    model_type_count: int
    matched: str | None = None  # the name the query matched
    example: str | None = None  # Python using the class (with a query)
    model_types: dict[str, str] | None = None  # model_type -> model class (with --model-types)


@dataclass
class OtherLibraryTask:
    """A task no Auto model class of transformers does, and the library whose class does it."""

    task: str
    library: str
    loader: str  # how that library loads a model for it


@dataclass
class TasksReport:
    transformers_version: str
    query: str | None
    tasks: list[TaskEntry]
    other_library: OtherLibraryTask | None = None  # set, with no tasks, when transformers does not do the query


def normalize(text: str) -> str:
    """Lower case, words separated by single spaces; CamelCase, '-', '_' and '.' split words."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def model_types_for(auto_class: str, index: HeadIndex) -> dict[str, str]:
    """model_type -> the model class `auto_class` builds for it (the first candidate), sorted by model_type."""
    found = {}
    for model_type, config_class in index.config_classes.items():
        candidates = index.heads.get(config_class, {}).get(auto_class)
        if candidates:
            found[model_type] = candidates[0]
    return dict(sorted(found.items()))


def _entry(auto_class: str, index: HeadIndex, pipelines: dict[str, list[str]]) -> TaskEntry:
    info, io = task_info(auto_class), head_io(auto_class)
    return TaskEntry(
        auto_class=auto_class,
        task=info.task,
        modality=info.modality,
        pipelines=pipelines.get(auto_class, []),
        hub_task=info.hub_task,
        inputs=io.inputs,
        output=io.output,
        model_type_count=len(model_types_for(auto_class, index)),
    )


def _pipelines_by_auto_class(index: HeadIndex) -> dict[str, list[str]]:
    by_auto: dict[str, list[str]] = {}
    for task, auto_classes in index.pipelines.items():
        for auto_class in auto_classes:
            by_auto.setdefault(auto_class, []).append(task)
    return by_auto


def _modality_rank(modality: str) -> int:
    return MODALITY_ORDER.index(modality) if modality in MODALITY_ORDER else len(MODALITY_ORDER)


def list_tasks(index: HeadIndex) -> TasksReport:
    """Every Auto model class of the installed transformers, grouped by modality (text, vision, audio, ...)."""
    pipelines = _pipelines_by_auto_class(index)
    entries = [_entry(auto, index, pipelines) for auto in index.auto_classes]
    entries.sort(key=lambda e: (_modality_rank(e.modality), e.modality))  # stable: transformers' order inside
    return TasksReport(index.transformers_version, None, entries)


def task_names(auto_class: str, pipelines: list[str]) -> list[str]:
    """Every name an Auto class answers to, normalized: class names, task text, pipelines, Hub task, synonyms."""
    info = task_info(auto_class)
    names = [auto_class, short_name(auto_class), info.task, re.sub(r"\s*\(.*\)", "", info.task)]
    names += pipelines + [info.hub_task or ""] + list(SYNONYMS.get(auto_class, ()))
    return list(dict.fromkeys(n for n in map(normalize, names) if n))


def _close(word: str, words: list[str]) -> bool:
    return len(word) >= 4 and bool(difflib.get_close_matches(word, words, n=1, cutoff=_WORD_CUTOFF))


def _score(query: str, name: str) -> tuple[int, float]:
    """(tier, share of the name the query covers); tier -1 when there is no match."""
    if query == name or query.replace(" ", "") == name.replace(" ", ""):
        return EXACT, 1.0
    query_words, name_words = query.split(), name.split()
    if all(word in name_words for word in query_words):
        return WORDS, len(query_words) / len(name_words)
    if all(word in name_words or _close(word, name_words) for word in query_words):
        return CLOSE_WORDS, len(query_words) / len(name_words)
    ratio = difflib.SequenceMatcher(None, query.replace(" ", ""), name.replace(" ", "")).ratio()
    return (CLOSE, ratio) if ratio >= _NAME_CUTOFF else (-1, 0.0)


def match_auto_classes(query: str, auto_classes: list[str], pipelines: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The Auto classes `query` names, best first, each with the name it matched; [] when none.

    Only the best matches are returned, so `question answering` gives AutoModelForQuestionAnswering and
    not also the table/visual/document variants, while `segmentation` gives every segmentation head.
    """
    wanted = normalize(query)
    if not wanted or len(wanted) > MAX_QUERY:
        return []
    scored = []
    for auto_class in auto_classes:
        best = max(((_score(wanted, name), name) for name in task_names(auto_class, pipelines.get(auto_class, []))),
                   key=lambda item: item[0])
        if best[0][0] >= 0:
            scored.append((best[0], auto_class, best[1]))
    if not scored:
        return []
    top = max(score for score, _, _ in scored)
    # A query that is a whole name ("objet detection") drops the names it is only part of.
    best = [item for item in scored if item[0][0] == top[0] and (top[1] < 1 or item[0][1] == 1)]
    best.sort(key=lambda item: -item[0][1])  # stable: transformers' order among equals
    return [(auto_class, name) for _, auto_class, name in best]


def suggestions(query: str, index: HeadIndex, limit: int = 5) -> list[str]:
    """Close task or Auto class names, for 'did you mean' hints."""
    pipelines = _pipelines_by_auto_class(index)
    names = {name: auto for auto in index.auto_classes for name in task_names(auto, pipelines.get(auto, []))}
    return difflib.get_close_matches(normalize(query), list(names), n=limit, cutoff=0.5)


def find_tasks(query: str, index: HeadIndex, with_model_types: bool = False) -> TasksReport:
    """The Auto classes matching `query`, each with a code example (and its model types if asked)."""
    if len(query) > MAX_QUERY:
        raise BadInputError(f"a task query is at most {MAX_QUERY} characters (this one has {len(query)})")
    pipelines = _pipelines_by_auto_class(index)
    matches = match_auto_classes(query, index.auto_classes, pipelines)
    elsewhere = OTHER_LIBRARY_TASKS.get(normalize(query))
    if elsewhere is not None and not any(normalize(query) == normalize(name) for _, name in matches):
        return TasksReport(index.transformers_version, query, [], OtherLibraryTask(*elsewhere))
    if not matches:
        close = suggestions(query, index)
        raise AmxError(
            f"no task of transformers {index.transformers_version} matches {query!r}"
            + (f"; close: {', '.join(close)}" if close else ""),
            hint="run 'amx tasks' for every task, its Auto class and its pipeline",
        )
    entries = []
    for auto_class, matched in matches:
        entry = _entry(auto_class, index, pipelines)
        entry.matched = matched
        entry.example = code_example(auto_class, entry.modality, entry.pipelines)
        if with_model_types:
            entry.model_types = model_types_for(auto_class, index)
        entries.append(entry)
    return TasksReport(index.transformers_version, query, entries)
