"""amx: a command-line model inspector and task-head advisor for Hugging Face transformers.

The core modules return plain dataclasses and form the Python API; `cli.py` is a thin layer on top.
"""

__version__ = "0.1.0"
