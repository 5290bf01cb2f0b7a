"""The package's layers (docs/development.md), kept true by walking every import of every module with `ast`:
at module level, inside functions and under TYPE_CHECKING alike."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "automodel_cli"
# Sub-package -> layer. A module imports its own sub-package or lower layers only; sub-packages of one
# layer stand side by side and never import each other.
LAYERS = {
    "base": 0, "compat": 0,
    "files": 1,
    "formats": 2,
    "shapes": 3,
    "knowledge": 4,
    "meta": 5, "source": 5, "repository": 5,
    "analysis": 6,
    "diagnosis": 7,
    "render": 8,
    "commands": 9,
}
TOP = 10  # the modules at the package root: the entry point and the lazily loaded Python API
MAX_ROOT_MODULES = 6
MAX_LINES = 600
# What only the terminal layers may import: the core returns data and never prints.
TERMINAL_LIBRARIES = {"rich", "typer", "click"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = _modules()


def _layer(module: str) -> tuple[str, int]:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1], LAYERS[parts[1]]
    return "", TOP


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, imported module of the package) for every import statement, wherever it stands."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: None if is_package else -1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from . import hub` imports a module
                found.append((node.lineno, f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES
                              else target))
    return found


def _package_edges() -> dict[str, set[str]]:
    edges = {}
    for module, path in MODULES.items():
        targets = set()
        for _, target in _imports(module, path):
            while target and target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target in MODULES and target != module:
                targets.add(target)
        edges[module] = targets
    return edges


def test_the_package_has_sub_packages_for_every_layer_and_only_known_ones():
    sub_packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert sub_packages == set(LAYERS)


def test_every_import_goes_to_its_own_sub_package_or_a_lower_layer():
    wrong = []
    for module, path in MODULES.items():
        own, layer = _layer(module)
        for line, target in _imports(module, path):
            if not target.startswith("automodel_cli"):
                continue
            other, other_layer = _layer(target)
            if other != own and other_layer >= layer:
                wrong.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {target} (layer {other_layer} "
                             f"from layer {layer})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_modules():
    edges = _package_edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in edges:
        if module not in index:
            visit(module)
    assert not cycles


def test_the_core_never_prints_nor_imports_the_terminal_libraries():
    """The core returns dataclasses; only render/ and commands/ write (a user module's prints are sent to
    stderr by redirecting stdout, which is no write)."""
    wrong = []
    for module, path in MODULES.items():
        if _layer(module)[1] >= LAYERS["render"]:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                wrong.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} prints")
            if isinstance(node, ast.Attribute) and _is_sys(node.value, "stdout"):
                wrong.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} writes to sys.stdout")
            if isinstance(node, ast.Attribute) and node.attr == "write" and _is_sys(node.value, "stderr"):
                wrong.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} writes to sys.stderr")
        for line, target in _imports(module, path):
            if target.partition(".")[0] in TERMINAL_LIBRARIES:
                wrong.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)


def _is_sys(node: ast.expr, stream: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == stream and isinstance(node.value, ast.Name) \
        and node.value.id == "sys"


def test_few_modules_at_the_root_and_none_too_long():
    root = [path.name for path in PACKAGE.glob("*.py")]
    assert len(root) <= MAX_ROOT_MODULES, root
    long = [f"{path.relative_to(PROJECT_ROOT)}: {n} lines" for path in MODULES.values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, long


@pytest.mark.parametrize("layer", sorted(set(LAYERS) - {"compat", "render", "commands"}))
def test_sub_package_init_files_hold_only_their_docstring(layer):
    """Importing one module of a layer must not import the rest: start-up time depends on it."""
    tree = ast.parse((PACKAGE / layer / "__init__.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{layer}/__init__.py says what the layer holds"
    assert len(tree.body) == 1


def test_the_walk_resolves_relative_imports_as_python_does(tmp_path):
    """So that a violation is seen: a formats module importing analysis, at any depth of dots."""
    module = tmp_path / "tensors.py"
    module.write_text("from ..analysis.report import InspectReport\nfrom . import safetensors_header\n"
                      "def late():\n    from .. import cli\n")
    found = [target for _, target in _imports("automodel_cli.formats.tensors", module)]
    assert found == ["automodel_cli.analysis.report", "automodel_cli.formats.safetensors_header", "automodel_cli.cli"]
    assert _layer(found[0])[1] > _layer("automodel_cli.formats.tensors")[1]
