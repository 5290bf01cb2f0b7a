"""The default of each field of a transformers config class, without instantiating it.

Newer transformers declare config classes as dataclasses (the defaults are their fields); 5.0 takes
them as keyword arguments of `__init__`. Either way these are the values a config.json that omits
the field gets.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any


def config_class_defaults(config_class: type) -> dict[str, Any]:
    if dataclasses.is_dataclass(config_class):
        return {f.name: f.default for f in dataclasses.fields(config_class) if f.default is not dataclasses.MISSING}
    try:
        parameters = inspect.signature(config_class.__init__).parameters.values()
    except (TypeError, ValueError):
        return {}
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {p.name: p.default for p in parameters if p.kind in keyword and p.default is not inspect.Parameter.empty}
