"""A repository's own model code (config.json `auto_map`): parsed, never imported unless trusted.

Without --trust-remote-code the class is found with `ast` in the repository's Python file and its
methods are cut out by line numbers, the same lines `inspect.getsource` would give. With
--trust-remote-code the class is imported through transformers' dynamic-module machinery, as
`from_pretrained(..., trust_remote_code=True)` would, after the files were fetched through
`reference.locate_file` (so `hub.py` stays the only network code).
"""

from __future__ import annotations

import ast
import inspect
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.errors import AmxError, ConfigError
from ..files.reference import ModelRef, locate_file, parse_reference
from ..knowledge.head_index import installed_transformers
from .forward_contract import (
    Contract,
    OutputField,
    documented_shapes,
    inputs_from_ast,
    main_output,
)
from .live_source import MethodSource

MAX_CODE_BYTES = 8 * 1024 * 1024
_REFERENCE = re.compile(r"(?:(?P<repo>[\w\-.]+/[\w\-.]+)--)?(?P<module>[\w\-]+)\.(?P<cls>[A-Za-z_]\w*)", re.ASCII)


@dataclass(frozen=True)
class RemoteClass:
    """`modeling_mpt.MPTForCausalLM`, or `org/repo--modeling_mpt.MPTForCausalLM` for code in another repository."""

    module: str
    class_name: str
    code_repo: str | None

    @property
    def filename(self) -> str:
        return f"{self.module}.py"


def parse_remote_class(reference: str) -> RemoteClass:
    match = _REFERENCE.fullmatch(reference)
    if match is None:
        raise ConfigError(
            f"auto_map entry {reference!r} is not of the form 'module.Class' or 'org/repo--module.Class'"
        )
    return RemoteClass(match["module"], match["cls"], match["repo"])


def code_location(model: ModelRef, remote: RemoteClass) -> ModelRef:
    """Where the code lives: the model itself, or the repository the reference names (as transformers does)."""
    return parse_reference(remote.code_repo) if remote.code_repo else model


def read_code(path: Path) -> tuple[str, ast.Module]:
    """The text and syntax tree of a Python file written by strangers: bounded, parsed, never executed."""
    try:
        if path.stat().st_size > MAX_CODE_BYTES:
            raise AmxError(f"{path.name}: larger than {MAX_CODE_BYTES:,} bytes; not read")
        with tokenize.open(path) as handle:  # honours a PEP 263 encoding line, as inspect does
            text = handle.read()
        return text, ast.parse(text, filename=path.name)
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError) as error:
        raise AmxError(f"{path.name}: not valid Python ({type(error).__name__}: {error})") from None
    except OSError as error:
        raise AmxError(f"{path.name}: cannot read: {error.strerror or error}") from None


@dataclass
class ParsedClass:
    """One class of a parsed file and the classes it inherits from inside that file."""

    name: str
    module: str
    file: str
    lines: list[str]
    lineage: list[ast.ClassDef]  # the class, then its bases defined in the same file, depth first
    outside_bases: list[str]  # bases imported from elsewhere (PreTrainedModel, ...)
    tree: ast.Module


def parse_class(path: Path, class_name: str, module: str, shown_file: str) -> ParsedClass:
    text, tree = read_code(path)
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    if class_name not in classes:
        raise AmxError(
            f"class {class_name} is not defined in {shown_file}",
            hint="it may be imported from another file of the repository; --trust-remote-code imports it",
        )
    lineage: list[ast.ClassDef] = []
    outside: list[str] = []

    def visit(name: str) -> None:
        node = classes[name]
        if node in lineage:
            return
        lineage.append(node)
        for base in node.bases:
            base_name = ast.unparse(base)
            if base_name in classes:
                visit(base_name)
            elif base_name not in outside:
                outside.append(base_name)

    visit(class_name)
    return ParsedClass(class_name, module, shown_file, text.splitlines(keepends=True), lineage, outside, tree)


def _block(parsed: ParsedClass, node: ast.AST, name: str, kind: str, owner: str, via: list[str]) -> MethodSource:
    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
    block = inspect.getblock(parsed.lines[start - 1:])  # inspect.getsource's own end-of-block rule
    return MethodSource(name, kind, owner, parsed.module, parsed.file, start, start + len(block) - 1, "".join(block), via)


def find_function(parsed: ParsedClass, name: str) -> tuple[ast.ClassDef, ast.FunctionDef | ast.AsyncFunctionDef] | None:
    for owner in parsed.lineage:
        for node in owner.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                return owner, node
    return None


def static_method(parsed: ParsedClass, name: str) -> MethodSource | None:
    """The method's block, or None when the file does not define it (inherited from outside the file)."""
    found = find_function(parsed, name)
    if found is None:
        return None
    owner, node = found
    index = parsed.lineage.index(owner)
    via = [c.name for c in parsed.lineage[: index + 1]] if index else []
    return _block(parsed, node, name, "method", owner.name, via)


def static_class(parsed: ParsedClass) -> MethodSource:
    return _block(parsed, parsed.lineage[0], parsed.name, "class", parsed.name, [])


def static_output_class(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The `...Output...` class named in the return annotation, else in a `return X(...)` statement."""
    named = re.findall(r"\w*Output\w*", ast.unparse(function.returns)) if function.returns else []
    if not named:
        named = [
            node.value.func.id for node in ast.walk(function)
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and "Output" in node.value.func.id
        ]
    return named[-1] if named else None


def static_output_fields(
    class_name: str, repository_tree: ast.Module, repository_module: str
) -> tuple[list[OutputField], str | None]:
    """Fields of an output dataclass defined in the repository file or in transformers.modeling_outputs,
    inherited fields first as in a dataclass; and the module that defines it.

    transformers' file is parsed too, not imported: this path must stay free of heavy imports.
    """
    _, package_dir = installed_transformers()
    places = [(repository_tree, repository_module)]
    try:
        places.append((read_code(package_dir / "modeling_outputs.py")[1], "transformers.modeling_outputs"))
    except AmxError:
        pass
    classes = {}
    for tree, module in reversed(places):  # the repository's own definitions win
        classes.update({node.name: (node, module) for node in tree.body if isinstance(node, ast.ClassDef)})

    def fields_of(name: str, seen: set[str]) -> list[OutputField]:
        if name not in classes or name in seen:
            return []
        node = classes[name][0]
        inherited = [f for base in node.bases for f in fields_of(ast.unparse(base), seen | {name})]
        shapes = documented_shapes(ast.get_docstring(node))
        own = [
            OutputField(item.target.id, ast.unparse(item.annotation), shapes.get(item.target.id))
            for item in node.body if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
        ]
        names = {f.name for f in own}
        return [f for f in inherited if f.name not in names] + own

    if class_name not in classes:
        return [], None
    return fields_of(class_name, set()), classes[class_name][1]


def static_contract(parsed: ParsedClass, auto_class: str, raw: dict[str, Any]) -> Contract | None:
    """forward's contract read from the file: its signature, the output class it names, the main output's shape."""
    found = find_function(parsed, "forward")
    if found is None:
        return None
    output = static_output_class(found[1])
    fields, output_module = static_output_fields(output, parsed.tree, parsed.module) if output else ([], None)
    shapes, notes = main_output(auto_class, raw, None, fields or None)
    return Contract(
        method="forward", inputs=inputs_from_ast(found[1]),
        returns=ast.unparse(found[1].returns) if found[1].returns else None, output_class=output,
        output_module=output_module, output_fields=fields,
        main_output=shapes, notes=notes,
    )


def fetch_code_files(code_ref: ModelRef, filename: str, token: str | None) -> Path:
    """Fetch a module file and, recursively, the files it imports relatively; return the module's path."""
    from transformers.dynamic_module_utils import get_relative_imports

    path, _ = locate_file(code_ref, filename, token)
    pending, seen = list(get_relative_imports(path)), {filename}
    while pending:
        name = pending.pop().replace(".", "/") + ".py"
        if name not in seen:
            seen.add(name)
            pending.extend(get_relative_imports(locate_file(code_ref, name, token)[0]))
    return path


def import_remote_class(model: ModelRef, remote: RemoteClass, token: str | None) -> type:
    """Run the repository's code, as from_pretrained(trust_remote_code=True) would. Only with consent."""
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    path = fetch_code_files(code_location(model, remote), remote.filename, token)
    try:
        return get_class_from_dynamic_module(f"{remote.module}.{remote.class_name}", str(path.parent))
    except Exception as error:  # noqa: BLE001 - the repository's code may raise anything while importing
        first_line = str(error).splitlines()[0] if str(error) else ""
        raise AmxError(
            f"importing the repository's {remote.filename} failed: {type(error).__name__}: {first_line}",
            hint="install the packages it needs, or drop --trust-remote-code to read its code without running it",
        ) from None
