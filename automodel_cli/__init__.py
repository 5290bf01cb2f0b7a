"""amx: a command-line model inspector and task-head advisor for Hugging Face transformers.

The core returns plain dataclasses and is the Python API; `cli.py` is a thin layer on top. The names below
are the stable API, whatever sub-package holds them (docs/development.md). Each is loaded on first use, so
that `import automodel_cli` stays light.
"""

__version__ = "0.1.0"

# Public name -> the module that defines it.
_API = {
    "resolve_config": "files.reference",
    "resolve_repository": "repository.dispatch",
    "load_index": "knowledge.head_index",
    "heads_for_config": "knowledge.heads",
    "heads_for_repository": "analysis.heads",
    "find_tasks": "knowledge.task_search",
    "inspect_model": "analysis.inspection",
    "inspect_repository": "analysis.repository",
    "source_report": "source.model_source",
    "diagnose_model": "diagnosis.doctor",
    "check_models": "diagnosis.check",
    "diff_repositories": "analysis.diff",
}
__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'automodel_cli' has no attribute {name!r}")
