"""The model classes of each pipeline task, with or without torch.

transformers lists them in `pipelines.SUPPORTED_TASKS[task]["pt"]` as
`(AutoModelForXxx, ...) if is_torch_available() else ()`: without torch every task has none. torch is
an extra of amx, and the head index must be the same whichever install builds it, so without torch the
names are read from that expression in the installed source (never executed).
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from .torch_extra import torch_installed


def pipeline_model_classes() -> dict[str, list[str]]:
    """Task -> the names of the Auto classes its pipeline loads, as the installed transformers has them."""
    if torch_installed():
        from transformers.pipelines import SUPPORTED_TASKS

        return {task: [c.__name__ for c in spec.get("pt", ())] for task, spec in SUPPORTED_TASKS.items()}
    return _from_source()


def _from_source() -> dict[str, list[str]]:
    origin = importlib.util.find_spec("transformers.pipelines").origin
    tree = ast.parse(Path(origin).read_text(encoding="utf-8"))
    tasks = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "SUPPORTED_TASKS" for t in node.targets))
    found: dict[str, list[str]] = {}
    for task, spec in zip(tasks.keys, tasks.values):
        classes: list[str] = []
        for key, value in zip(spec.keys, spec.values):
            if isinstance(key, ast.Constant) and key.value == "pt":
                torch_side = value.body if isinstance(value, ast.IfExp) else value
                classes = [element.id for element in getattr(torch_side, "elts", ()) if isinstance(element, ast.Name)]
        found[task.value] = classes
    return found
