"""transformers' own model classes read from their files, without importing transformers or torch.

Importing a model module costs seconds; parsing the two or three files an answer comes from costs
milliseconds. Python finds `cls.forward` by walking the class's MRO; this module does the same on the
syntax trees: it resolves each base through the module's imports (relative imports, transformers' lazy
packages through their `TYPE_CHECKING` imports), linearises the bases with C3 as `type` does, and cuts
the method out with `inspect`'s own block rule, decorators included, so the text is what
`inspect.getsource` prints.

Whenever the answer could differ from what importing gives, it raises `Declined` and the caller imports
as before: a name bound conditionally, more than once or by a star import, a method assigned rather
than defined, a decorator not known to keep the function's code (`functools.wraps` or returning it), a
class decorator or a metaclass on the way, a base outside transformers' files reached before the method.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .forward_contract import (
    Contract,
    OutputField,
    inputs_from_ast,
    main_output,
    reads_config_sizes,
)
from .live_source import MethodSource, package_relative

# Decorators whose result `inspect.getsource` reads as the decorated function's own code: they return
# the function itself or a `functools.wraps` wrapper (inspect follows `__wrapped__`). Keyed by where the
# modeling file imports them from; anything else makes the static path decline.
KEEPS_CODE = frozenset({
    "builtins.staticmethod", "builtins.classmethod", "builtins.property", "functools.cached_property",
    "transformers.utils.auto_docstring", "transformers.utils.can_return_tuple",
    "transformers.utils.deprecation.deprecate_kwarg", "transformers.utils.generic.can_return_tuple",
    "transformers.utils.generic.merge_with_config_defaults", "transformers.utils.generic.accepts_precomputed_kwargs",
    "transformers.utils.output_capturing.capture_outputs", "transformers.utils.output_capturing.select_hidden_states",
    "transformers.backbone_utils.filter_output_hidden_states",
    "transformers.integrations.accelerate.force_accelerate_hooks",
    "transformers.utils.auto_docstring.auto_docstring", "transformers.utils.add_start_docstrings_to_model_forward",
    "transformers.utils.replace_return_docstrings", "transformers.utils.add_start_docstrings",
    "torch.no_grad", "torch.inference_mode",
})
# Class decorators known to leave the class's methods alone (not `requires`: without its backend,
# transformers hands out a placeholder class instead).
KEEPS_CLASS = frozenset({
    "transformers.utils.auto_docstring", "transformers.utils.auto_docstring.auto_docstring",
    "transformers.utils.add_start_docstrings",
})
MODEL_OUTPUT = frozenset({"transformers.utils.ModelOutput", "transformers.utils.generic.ModelOutput"})
DATACLASS = frozenset({"dataclasses.dataclass"})


class Declined(Exception):
    """The static reading cannot be sure it matches the imported class; import instead."""


@dataclass(frozen=True)
class External:
    """A name from outside transformers' files (torch.nn.Module, object, ...): known by its dotted name only."""

    name: str


@dataclass(frozen=True)
class ModuleRef:
    name: str


@dataclass
class Binding:
    node: ast.stmt
    conditional: bool  # inside an if/try/for/with: may or may not run


def _bound_names(stmt: ast.stmt) -> list[str]:
    """Names a statement binds in the scope it runs in (not inside nested functions or classes)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [alias.asname or alias.name.partition(".")[0] for alias in stmt.names]
    names = []
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [stmt.target]
    elif isinstance(stmt, ast.Delete):
        targets = stmt.targets
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in stmt.items if item.optional_vars is not None]
    for target in targets:
        names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)]
    for node in _expressions(stmt):
        names += [n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr)]
    return names


def _expressions(stmt: ast.stmt):
    for name, value in ast.iter_fields(stmt):
        if name in ("body", "orelse", "finalbody", "handlers", "cases"):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ast.expr):
                yield item


def _children(stmt: ast.stmt) -> list[ast.stmt]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    nested = []
    for name in ("body", "orelse", "finalbody"):
        nested += getattr(stmt, name, [])
    for handler in getattr(stmt, "handlers", []):
        nested += handler.body
    for case in getattr(stmt, "cases", []):
        nested += case.body
    return nested


def patched_attributes(body: list[ast.stmt]) -> set[tuple[str, str]]:
    """(name, attribute) pairs a module sets on its own objects (`PreTrainedModel.push_to_hub = ...`, setattr)."""
    patched = set()
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                and isinstance(node.value, ast.Name):
            patched.add((node.value.id, node.attr))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") \
                and node.args and isinstance(node.args[0], ast.Name):
            name = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) else "*"
            patched.add((node.args[0].id, name))
    return patched


def _is_type_checking(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.If) and ast.unparse(stmt.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def scope_bindings(body: list[ast.stmt]) -> tuple[dict[str, list[Binding]], list[ast.stmt]]:
    """name -> the statements binding it in a module or class body; and the `if TYPE_CHECKING:` blocks."""
    bindings: dict[str, list[Binding]] = {}
    type_checking = []

    def visit(statements: list[ast.stmt], conditional: bool) -> None:
        for stmt in statements:
            if _is_type_checking(stmt):
                type_checking.append(stmt)
                visit(stmt.orelse, True)
                continue
            if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                bindings.setdefault("*", []).append(Binding(stmt, conditional))
            for name in _bound_names(stmt):
                bindings.setdefault(name, []).append(Binding(stmt, conditional))
            visit(_children(stmt), True)

    visit(body, False)
    return bindings, type_checking


class ParsedModule:
    """One module of transformers, parsed (never executed)."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self.is_package = path.name == "__init__.py"
        self.lines = linecache.getlines(str(path))  # what inspect reads
        try:
            self.tree = ast.parse("".join(self.lines), filename=str(path))
        except (SyntaxError, ValueError, RecursionError) as error:
            raise Declined(f"{path}: {error}") from None
        self.bindings, self.type_checking = scope_bindings(self.tree.body)
        self.patched = patched_attributes([s for s in self.tree.body if not isinstance(s, ast.ClassDef)])
        # transformers' lazy packages replace themselves by a _LazyModule: their names are what the
        # TYPE_CHECKING imports say (transformers' own check keeps both in step).
        self.lazy = bool(self.type_checking) and "_LazyModule(" in "".join(self.lines)

    @cached_property
    def all_names(self) -> set[str] | None:
        found = self.bindings.get("__all__", [])
        if len(found) != 1 or found[0].conditional or not isinstance(found[0].node, ast.Assign):
            return None
        try:
            return set(ast.literal_eval(found[0].node.value))
        except ValueError:
            return None


@dataclass
class StaticClass:
    module: ParsedModule
    node: ast.ClassDef

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def key(self) -> tuple[str, str]:
        return self.module.name, self.node.name

    @cached_property
    def bindings(self) -> dict[str, list[Binding]]:
        return scope_bindings(self.node.body)[0]


@dataclass(frozen=True)
class FunctionRef:
    module: ParsedModule
    node: ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class StaticReader:
    """Parses transformers' files on demand, each once, and resolves names the way imports do."""

    package_dir: Path
    modules: dict[str, ParsedModule | None] = field(default_factory=dict)
    linearised: dict[tuple[str, str], list] = field(default_factory=dict)

    def module(self, name: str) -> ParsedModule | None:
        """The parsed module, or None when `name` is outside transformers' files."""
        if name != "transformers" and not name.startswith("transformers."):
            return None
        if name not in self.modules:
            parts = name.split(".")[1:]
            base = self.package_dir.joinpath(*parts)
            for path in (base.with_suffix(".py") if parts else None, base / "__init__.py"):
                if path is not None and path.is_file():
                    self.modules[name] = ParsedModule(name, path)
                    break
            else:
                raise Declined(f"no file for module {name}")
        return self.modules[name]

    def _absolute(self, module: ParsedModule, stmt: ast.ImportFrom) -> str:
        if not stmt.level:
            return stmt.module or ""
        package = module.name.split(".")
        if not module.is_package:
            package = package[:-1]
        if stmt.level > 1:
            package = package[: len(package) - (stmt.level - 1)]
        return ".".join(package + ([stmt.module] if stmt.module else []))

    def resolve_name(self, module: ParsedModule, name: str):
        """What `name` is at the end of `module`'s execution: a StaticClass, FunctionRef, ModuleRef or External."""
        if module.lazy:
            return self._resolve_lazy(module, name)
        found = module.bindings.get(name, [])
        if not found and "*" not in module.bindings and hasattr(builtins, name):
            return External(f"builtins.{name}")
        if "*" in module.bindings or len(found) != 1 or found[0].conditional:
            raise Declined(f"{module.name}.{name} is not bound exactly once, unconditionally")
        return self._from_binding(module, found[0].node, name)

    def _from_binding(self, module: ParsedModule, stmt: ast.stmt, name: str):
        if isinstance(stmt, ast.ClassDef):
            return StaticClass(module, stmt)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return FunctionRef(module, stmt)
        if isinstance(stmt, ast.ImportFrom):
            alias = next(a for a in stmt.names if (a.asname or a.name) == name)
            return self.attribute(ModuleRef(self._absolute(module, stmt)), alias.name)
        if isinstance(stmt, ast.Import):
            alias = next(a for a in stmt.names if (a.asname or a.name.partition(".")[0]) == name)
            return ModuleRef(alias.name if alias.asname else alias.name.partition(".")[0])
        raise Declined(f"{module.name}.{name} is assigned, not defined")

    def _resolve_lazy(self, module: ParsedModule, name: str):
        for block in module.type_checking:
            bindings, _ = scope_bindings(block.body)
            found = bindings.get(name, [])
            if len(found) == 1 and isinstance(found[0].node, ast.ImportFrom):
                return self._from_binding(module, found[0].node, name)
            if found:
                raise Declined(f"{module.name}.{name}: unclear lazy export")
            for star in bindings.get("*", []):
                source = self.module(self._absolute(module, star.node))
                if source is not None and source.all_names is not None and name in source.all_names:
                    return self.resolve_name(source, name)
        submodule = f"{module.name}.{name}"
        if (module.path.parent / f"{name}.py").is_file() or (module.path.parent / name / "__init__.py").is_file():
            return ModuleRef(submodule)
        raise Declined(f"{module.name} does not export {name}")

    def attribute(self, owner, name: str):
        """`owner.name` for a module reference (what `from owner import name` gives)."""
        if isinstance(owner, External):
            return External(f"{owner.name}.{name}")
        if not isinstance(owner, ModuleRef):
            raise Declined(f"attribute {name} of {owner}")
        module = self.module(owner.name)
        if module is None:
            return External(f"{owner.name}.{name}")
        if module.lazy or name in module.bindings:
            return self.resolve_name(module, name)
        if module.is_package and ((module.path.parent / f"{name}.py").is_file()
                                  or (module.path.parent / name / "__init__.py").is_file()):
            return ModuleRef(f"{owner.name}.{name}")
        raise Declined(f"{owner.name} does not define {name}")

    def resolve_expression(self, module: ParsedModule, expression: ast.expr):
        if isinstance(expression, ast.Name):
            return self.resolve_name(module, expression.id)
        if isinstance(expression, ast.Attribute):
            return self.attribute(self.resolve_expression(module, expression.value), expression.attr)
        raise Declined(f"cannot resolve {ast.unparse(expression)}")

    def qualified(self, module: ParsedModule, expression: ast.expr) -> str:
        """A decorator's or base's dotted origin, following one import: `transformers.utils.auto_docstring`."""
        if isinstance(expression, ast.Call):
            expression = expression.func
        resolved = self._origin(module, expression)
        if isinstance(resolved, External):
            return resolved.name
        if isinstance(resolved, (StaticClass, FunctionRef)):
            return f"{resolved.module.name}.{resolved.node.name}"
        return resolved.name

    def _origin(self, module: ParsedModule, expression: ast.expr):
        """Like resolve_expression, but stops at the first import (decorators are known by import path)."""
        if isinstance(expression, ast.Name):
            name = expression.id
            found = module.bindings.get(name, [])
            if not found and "*" not in module.bindings and hasattr(builtins, name):
                return External(f"builtins.{name}")
            if len(found) != 1 or found[0].conditional or "*" in module.bindings:
                raise Declined(f"{module.name}.{name} is not bound exactly once, unconditionally")
            stmt = found[0].node
            if isinstance(stmt, ast.ImportFrom):
                alias = next(a for a in stmt.names if (a.asname or a.name) == name)
                return External(f"{self._absolute(module, stmt)}.{alias.name}")
            return self._from_binding(module, stmt, name)
        if isinstance(expression, ast.Attribute):
            owner = self._origin(module, expression.value)
            if isinstance(owner, (External, ModuleRef)):
                return External(f"{owner.name}.{expression.attr}")
        raise Declined(f"cannot resolve {ast.unparse(expression)}")

    # --- classes -------------------------------------------------------------------------------------

    def find_class(self, module_name: str, class_name: str) -> StaticClass:
        module = self.module(module_name)
        if module is None:
            raise Declined(f"{module_name} is not part of transformers")
        found = self.resolve_name(module, class_name)
        if not isinstance(found, StaticClass):
            raise Declined(f"{module_name}.{class_name} is not a class statement")
        return found

    def bases(self, cls: StaticClass) -> list:
        found = []
        for base in cls.node.bases:
            resolved = self.resolve_expression(cls.module, base)
            if not isinstance(resolved, (StaticClass, External)):
                raise Declined(f"base {ast.unparse(base)} of {cls.name} is not a class")
            found.append(resolved)
        return found

    def mro(self, cls: StaticClass) -> list:
        """C3 linearisation, as `type` computes `__mro__`. Outside classes count as [X, object]: the
        order up to the first of them is exact, and a lookup declines when it reaches one."""
        if cls.key in self.linearised:
            return self.linearised[cls.key]
        self.linearised[cls.key] = []  # a cycle would make Python fail; resolving it again declines
        bases = self.bases(cls) or [External("builtins.object")]
        sequences = [self._linear(base) for base in bases] + [list(bases)]
        result = [cls]
        while any(sequences):
            sequences = [s for s in sequences if s]
            for sequence in sequences:
                head = sequence[0]
                if not any(_same(head, other) for s in sequences for other in s[1:]):
                    break
            else:
                raise Declined(f"no consistent MRO for {cls.name}")
            result.append(head)
            sequences = [s[1:] if _same(s[0], head) else s for s in sequences]
        if not result[1:]:
            raise Declined(f"cyclic bases for {cls.name}")
        self.linearised[cls.key] = result
        return result

    def _linear(self, base) -> list:
        if isinstance(base, External):
            return [base] if base.name == "builtins.object" else [base, External("builtins.object")]
        linear = self.mro(base)
        if not linear:
            raise Declined(f"cyclic bases for {base.name}")
        return linear

    def check_class(self, cls: StaticClass) -> None:
        """A class whose attributes are what its body says: no unknown class decorator, no metaclass."""
        if cls.node.keywords:
            raise Declined(f"{cls.name} has class keywords (metaclass)")
        for decorator in cls.node.decorator_list:
            if self.qualified(cls.module, decorator) not in KEEPS_CLASS:
                raise Declined(f"{cls.name} has the class decorator {ast.unparse(decorator)}")

    def find_method(self, cls: StaticClass, name: str) -> tuple[StaticClass, ast.FunctionDef, list[str]]:
        """(defining class, function node, MRO path when inherited), as attribute lookup finds `cls.name`."""
        self.check_class(cls)
        chain = [cls]
        if name not in cls.bindings:
            chain = self.mro(cls)
        for position, owner in enumerate(chain):
            if isinstance(owner, External):
                raise Declined(f"{name} is looked up in {owner.name}")
            self.check_class(owner)
            if {(owner.name, name), (owner.name, "*")} & owner.module.patched:
                raise Declined(f"{owner.module.name} sets {owner.name}.{name} after the class statement")
            found = owner.bindings.get(name)
            if not found:
                continue
            node = found[0].node
            if len(found) != 1 or found[0].conditional or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                raise Declined(f"{owner.name}.{name} is not a single unconditional def")
            for decorator in node.decorator_list:
                if self.qualified(owner.module, decorator) not in KEEPS_CODE:
                    raise Declined(f"{owner.name}.{name} has the decorator {ast.unparse(decorator)}")
            via = [c.name for c in chain[: position + 1]] if position else []
            return owner, node, via
        raise Declined(f"{cls.name} has no {name}")

    def is_subclass(self, cls, targets: frozenset[str], seen: frozenset = frozenset()) -> bool:
        """Whether a class derives from one of `targets` (dotted origins), stopping at the first import."""
        if isinstance(cls, External):
            return cls.name in targets
        if cls.key in seen:
            raise Declined(f"cyclic bases for {cls.name}")
        for base in cls.node.bases:
            if self.qualified(cls.module, base) in targets:
                return True
            if self.is_subclass(self.resolve_expression(cls.module, base), targets, seen | {cls.key}):
                return True
        return False


def _same(a, b) -> bool:
    if isinstance(a, StaticClass) and isinstance(b, StaticClass):
        return a.key == b.key
    return a == b


def block(cls: StaticClass, node: ast.AST, name: str, kind: str, via: list[str]) -> MethodSource:
    """`inspect.getsource`'s text: from the first decorator, to where `inspect.getblock` ends the block."""
    module = cls.module
    start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno])
    lines = inspect.getblock(module.lines[start - 1:])
    return MethodSource(
        name=name, kind=kind, defined_in=cls.name, module=module.name,
        file=package_relative(str(module.path), module.name), lineno=start, end_lineno=start + len(lines) - 1,
        source="".join(lines), inherited_via=via,
    )


def method_source(reader: StaticReader, cls: StaticClass, name: str) -> MethodSource:
    owner, node, via = reader.find_method(cls, name)
    return block(owner, node, name, "method", via)


def class_source(cls: StaticClass) -> MethodSource:
    return block(cls, cls.node, cls.name, "class", [])


# --- the short contract --------------------------------------------------------------------------------


def _output_class(reader: StaticReader, module: ParsedModule, function: ast.FunctionDef) -> StaticClass:
    """The first ModelOutput subclass the return annotation names, resolved as `live_source.output_class` does."""
    if function.returns is None:
        raise Declined("forward has no return annotation")
    outputs = reader.module("transformers.modeling_outputs")
    for dotted in re.findall(r"[A-Za-z_][\w.]*", ast.unparse(function.returns)):
        head, *rest = dotted.split(".")
        if head in ("torch", "typing", "Optional", "Union") or hasattr(builtins, head):
            continue
        scope = module if head in module.bindings or outputs is None or head not in outputs.bindings else outputs
        found = reader.resolve_name(scope, head)
        for part in rest:
            found = reader.attribute(found, part)
        if isinstance(found, StaticClass) and reader.is_subclass(found, MODEL_OUTPUT):
            return found
    raise Declined("the return annotation names no ModelOutput")


def _dataclass_fields(reader: StaticReader, cls: StaticClass) -> list[str] | None:
    """`dataclasses.fields(cls)` names: the nearest @dataclass along the MRO decides; None if none is."""
    for owner in reader.mro(cls):
        if isinstance(owner, External):
            return None
        if any(reader.qualified(owner.module, d) in DATACLASS for d in owner.node.decorator_list):
            return _own_dataclass_fields(reader, owner)
    return None


def _own_dataclass_fields(reader: StaticReader, cls: StaticClass) -> list[str]:
    fields: dict[str, None] = {}
    for base in reversed(reader.mro(cls)[1:]):
        if isinstance(base, StaticClass):
            fields.update(dict.fromkeys(_dataclass_fields(reader, base) or []))
    for item in cls.node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            if re.search(r"ClassVar|InitVar|KW_ONLY", ast.unparse(item.annotation)):
                raise Declined(f"{cls.name} has a pseudo-field")
            fields[item.target.id] = None
        elif not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Expr, ast.Pass, ast.Assign)):
            raise Declined(f"{cls.name}'s body is not plain")
    return list(fields)


def _attribute_map(reader: StaticReader, config_class: StaticClass) -> dict[str, str]:
    """The config class's `attribute_map` class attribute (gpt2: hidden_size -> n_embd), found along its MRO."""
    chain = [config_class] if "attribute_map" in config_class.bindings else reader.mro(config_class)
    for owner in chain:
        if isinstance(owner, External):
            raise Declined("attribute_map looked up outside transformers")
        found = owner.bindings.get("attribute_map")
        if not found:
            continue
        node = found[0].node
        if len(found) != 1 or found[0].conditional or not isinstance(node, (ast.Assign, ast.AnnAssign)) \
                or node.value is None:
            raise Declined(f"{owner.name}.attribute_map is not a plain assignment")
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            raise Declined(f"{owner.name}.attribute_map is not a literal") from None
        return dict(value)
    raise Declined("no attribute_map")


def short_contract(reader: StaticReader, cls: StaticClass, auto_class: str, raw: dict,
                   config_class: StaticClass | None) -> Contract:
    """What the one-line contract shows: input names and kinds, the output class and its fields, the main
    output's shape. Types, defaults and documented shapes need the imported class (`--contract`, `--json`)."""
    owner, function, _ = reader.find_method(cls, "forward")
    output = _output_class(reader, owner.module, function)
    fields = [OutputField(name, None) for name in (_dataclass_fields(reader, output) or [])]
    attribute_map = None
    if reads_config_sizes(auto_class):
        if config_class is None:
            raise Declined("no config class to read attribute_map from")
        attribute_map = _attribute_map(reader, config_class)
    shapes, notes = main_output(auto_class, raw, attribute_map, fields or None)
    return Contract(method="forward", inputs=inputs_from_ast(function), returns=ast.unparse(function.returns),
                    output_class=output.name, output_module=output.module.name, output_fields=fields,
                    main_output=shapes, notes=notes)
