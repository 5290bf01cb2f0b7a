"""amx: a command-line model inspector and task-head advisor for Hugging Face transformers.

The core modules return plain dataclasses and form the Python API; `cli.py` is a thin layer on top.
`from automodel_cli import check_models` is the API of `amx check`; it is loaded on first use so that
`import automodel_cli` stays light.
"""

__version__ = "0.1.0"
__all__ = ["check_models"]


def __getattr__(name: str):
    if name == "check_models":
        from .diagnosis.check import check_models

        return check_models
    raise AttributeError(f"module 'automodel_cli' has no attribute {name!r}")
