"""Making a list of thousands of tensors readable: repeated layers collapsed, a regex filter, a module tree.

`model.layers.0.self_attn.q_proj.weight` ... `model.layers.31.self_attn.q_proj.weight`, all of one
shape and dtype, become one row `model.layers.{0..31}.self_attn.q_proj.weight  x32`.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from ..base.errors import BadInputError
from .tensors import TensorSpec


@dataclass(frozen=True)
class ParamGroup:
    name: str  # with {a..b} where layer indices vary
    shape: tuple[int, ...]
    dtype: str
    count: int  # tensors in the group
    numel: int  # elements over all of them
    buffer: bool = False


@dataclass
class ModuleNode:
    name: str  # one path component; "{0..31}" for identical numbered siblings merged
    parameters: int  # over every copy when count > 1; buffers are not counted
    count: int = 1
    children: list[ModuleNode] = field(default_factory=list)


def filter_tensors(tensors: Sequence[TensorSpec], pattern: str) -> list[TensorSpec]:
    """Tensors whose name matches `pattern` (re.search); a malformed pattern is bad input (exit 2)."""
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise BadInputError(
            f"--filter {pattern!r} is not a valid regular expression: {error}",
            hint=f"--filter takes a Python regular expression searched in tensor names: escape special characters "
                 f"('{re.escape(pattern)}' matches the text literally), e.g. --filter 'layers\\.0\\.'",
        ) from None
    return [t for t in tensors if regex.search(t.name)]


def compact_range(values: Sequence[int]) -> str:
    """[0, 1, 2, 3, 5] -> '0..3,5'."""
    ordered = sorted(set(values))
    runs: list[list[int]] = []
    for value in ordered:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ",".join(
        f"{run[0]}..{run[-1]}" if len(run) > 2 else ",".join(map(str, run)) for run in runs
    )


def collapse_layers(names: Sequence[str], keys: Sequence[Hashable]) -> list[tuple[str, Hashable, list[int]]]:
    """Collapse names that differ only in numeric path components and share a key: (pattern, key, indices).

    `model.layers.0.mlp.up_proj.weight` ... `model.layers.31.mlp.up_proj.weight` of one key become
    `model.layers.{0..31}.mlp.up_proj.weight`, with the positions of the names it stands for.
    """
    groups: dict[tuple, tuple[list[list[int]], list[int]]] = {}
    for position, (name, key) in enumerate(zip(names, keys)):
        parts = name.split(".")
        template = tuple(None if part.isdigit() else part for part in parts)
        holes, members = groups.setdefault((template, key), ([[] for part in template if part is None], []))
        for values, part in zip(holes, (p for p in parts if p.isdigit())):
            values.append(int(part))
        members.append(position)
    result = []
    for (template, key), (holes, members) in groups.items():
        filled = iter(holes)
        name_parts = []
        for part in template:
            if part is not None:
                name_parts.append(part)
                continue
            values = next(filled)
            name_parts.append(str(values[0]) if len(set(values)) == 1 else "{" + compact_range(values) + "}")
        result.append((".".join(name_parts), key, members))
    return result


def group_tensors(tensors: Sequence[TensorSpec]) -> list[ParamGroup]:
    """Collapse tensors that differ only in numeric path components and share shape, dtype and kind."""
    keys = [(t.shape, t.dtype, t.buffer) for t in tensors]
    return [ParamGroup(name, shape, dtype, len(members), sum(tensors[i].numel for i in members), buffer)
            for name, (shape, dtype, buffer), members in collapse_layers([t.name for t in tensors], keys)]


def module_tree(tensors: Sequence[TensorSpec], depth: int) -> ModuleNode:
    """Modules down to `depth` levels with their parameter counts; identical numbered siblings merged."""
    root = _Trie()
    for tensor in tensors:
        node = root
        for part in tensor.name.split(".")[:-1]:
            node = node.children.setdefault(part, _Trie())
        node.own += 0 if tensor.buffer else tensor.numel
    return _to_nodes("", root, depth)


class _Trie:
    __slots__ = ("children", "own")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.own = 0

    def total(self) -> int:
        return self.own + sum(child.total() for child in self.children.values())

    def signature(self) -> tuple:
        return (self.own, tuple((k if not k.isdigit() else "#", v.signature()) for k, v in self.children.items()))


def _to_nodes(name: str, trie: _Trie, depth: int) -> ModuleNode:
    node = ModuleNode(name, trie.total())
    if depth <= 0:
        return node
    items = list(trie.children.items())
    i = 0
    while i < len(items):
        key, child = items[i]
        j = i + 1
        if key.isdigit():
            signature = child.signature()
            while j < len(items) and items[j][0].isdigit() and items[j][1].signature() == signature:
                j += 1
        if j - i > 1:
            merged = _to_nodes("{" + compact_range([int(k) for k, _ in items[i:j]]) + "}", child, depth - 1)
            merged.count, merged.parameters = j - i, merged.parameters * (j - i)
            node.children.append(merged)
        else:
            node.children.append(_to_nodes(key, child, depth - 1))
        i = j
    return node
