"""The quantization methods the installed transformers supports: the keys of its
`AUTO_QUANTIZATION_CONFIG_MAPPING`, read from `quantizers/auto.py` without importing it (torch stays unloaded)."""

from __future__ import annotations

import ast
from functools import cache

from ..head_index import installed_transformers

MAPPING = "AUTO_QUANTIZATION_CONFIG_MAPPING"


@cache
def supported_methods() -> tuple[str, ...]:
    """The mapping's keys in source order; empty when the file no longer holds the mapping as a literal."""
    _, package_dir = installed_transformers()
    try:
        tree = ast.parse((package_dir / "quantizers" / "auto.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return ()
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id == MAPPING and isinstance(node.value, ast.Dict):
            return tuple(key.value for key in node.value.keys
                         if isinstance(key, ast.Constant) and isinstance(key.value, str))
    return ()
