"""Source and forward contract of an imported model class, read with `inspect`.

Used for transformers' own classes and, with --trust-remote-code, for a repository's class imported
through transformers' dynamic-module machinery. Every block is exactly `inspect.getsource` of the
function found along the class's MRO, so what amx prints is what Python runs.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
import re
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.errors import AmxError, BadInputError
from .forward_contract import (
    Contract,
    InputParam,
    OutputField,
    documented_shapes,
    main_output,
)


@dataclass
class MethodSource:
    name: str  # the method, or the class name for a whole-class block
    kind: str  # "method" or "class"
    defined_in: str  # the class whose body holds the code
    module: str
    file: str  # relative to the package root, e.g. transformers/models/bert/modeling_bert.py
    lineno: int
    end_lineno: int
    source: str
    inherited_via: list[str]  # MRO from the model class to `defined_in` when inherited, else empty


def package_relative(path: str, module_name: str) -> str:
    """`.../site-packages/transformers/models/bert/modeling_bert.py` -> `transformers/models/bert/modeling_bert.py`.

    Found from the path alone: dynamic modules (`transformers_modules.*`) are not in sys.modules as packages.
    """
    resolved = Path(path).resolve()
    top = module_name.partition(".")[0]
    for parent in resolved.parents:
        if parent.name == top:
            return resolved.relative_to(parent.parent).as_posix()
    return path


def _function_of(attribute: Any) -> Any:
    """The function behind a class attribute (plain, static, class method or property), else None."""
    if isinstance(attribute, (staticmethod, classmethod)):
        attribute = attribute.__func__
    elif isinstance(attribute, property):
        attribute = attribute.fget
    elif isinstance(attribute, functools.cached_property):
        attribute = attribute.func
    return attribute if inspect.isfunction(inspect.unwrap(attribute)) else None


def find_method(cls: type, name: str) -> tuple[type, Any]:
    """(defining class, function) of `cls.name`, searched along the MRO as attribute lookup does."""
    for owner in cls.__mro__:
        if name in vars(owner):
            function = _function_of(vars(owner)[name])
            if function is None:
                raise BadInputError(f"{cls.__name__}.{name} is a {type(vars(owner)[name]).__name__}, not a method")
            return owner, function
    methods = sorted({n for owner in cls.__mro__ for n, v in vars(owner).items() if _function_of(v) is not None})
    close = difflib.get_close_matches(name, methods, n=5)
    raise BadInputError(
        f"{cls.__name__} has no method {name!r}" + (f"; did you mean: {', '.join(close)}?" if close else ""),
        hint="--class prints the whole class",
    )


def _readable(function: Any, owner: type) -> Any:
    """What inspect should read for a method found in `owner`.

    Normally the function itself: inspect follows `__wrapped__` through decorators to the real code.
    But `functools.wraps` also serves to borrow another function's name and docstring
    (`PreTrainedModel.to` wraps torch's `Module.to`); following `__wrapped__` there would show the
    borrowed function, so the method's own code object is read instead.
    """
    target = inspect.unwrap(function)
    owner_file = getattr(sys.modules.get(owner.__module__), "__file__", None)
    own_file = getattr(getattr(function, "__code__", None), "co_filename", None)
    target_file = getattr(getattr(target, "__code__", None), "co_filename", None)
    if target is not function and owner_file and own_file == owner_file != target_file:
        return function.__code__
    return function


def _block(obj: Any, name: str, kind: str, owner: type, via: list[str]) -> MethodSource:
    try:
        lines, lineno = inspect.getsourcelines(obj)  # inspect.getsource is "".join(lines)
        code_of = inspect.unwrap(obj) if inspect.isfunction(obj) else obj
        path = inspect.getsourcefile(code_of)
    except (OSError, TypeError) as error:
        raise AmxError(f"no Python source for {owner.__name__}.{name}: {error}") from None
    module = getattr(code_of, "__module__", None) or owner.__module__
    return MethodSource(
        name=name, kind=kind, defined_in=owner.__qualname__, module=module,
        file=package_relative(path or "?", module), lineno=lineno,
        end_lineno=lineno + len(lines) - 1, source="".join(lines), inherited_via=via,
    )


def method_source(cls: type, name: str) -> MethodSource:
    owner, function = find_method(cls, name)
    via = [] if owner is cls else [c.__name__ for c in cls.__mro__[: cls.__mro__.index(owner) + 1]]
    return _block(_readable(function, owner), name, "method", owner, via)


def class_source(cls: type) -> MethodSource:
    return _block(cls, cls.__name__, "class", cls, [])


def annotation_text(annotation: Any) -> str | None:
    """A readable annotation: `torch.Tensor | None`, without transformers' long module paths."""
    if annotation is inspect.Parameter.empty:
        return None
    if isinstance(annotation, str):
        text = annotation
    elif isinstance(annotation, type) and not typing.get_args(annotation):
        module = annotation.__module__
        text = annotation.__qualname__ if module == "builtins" else f"{module}.{annotation.__qualname__}"
    elif typing.get_origin(annotation) is getattr(typing, "Unpack", None):  # **kwargs: Unpack[TransformersKwargs]
        text = f"Unpack[{annotation_text(typing.get_args(annotation)[0])}]"
    else:
        text = str(annotation)
    return re.sub(r"\btransformers(?:\.\w+)*\.(?=\w+)", "", text.replace("typing.", ""))


_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword",
    inspect.Parameter.VAR_POSITIONAL: "*args",
    inspect.Parameter.VAR_KEYWORD: "**kwargs",
}


def _inputs(function: Any) -> list[InputParam]:
    shapes = documented_shapes(function.__doc__)
    params = list(inspect.signature(function).parameters.values())[1:]  # drop self
    inputs = []
    for param in params:
        variadic = param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
        has_default = param.default is not param.empty
        inputs.append(InputParam(
            name=param.name, required=not variadic and not has_default,
            default=repr(param.default) if has_default else None,
            annotation=annotation_text(param.annotation), kind=_KINDS[param.kind], shape=shapes.get(param.name),
        ))
    return inputs


def _output_types(annotation: Any, namespace: dict[str, Any]) -> list[Any]:
    """Classes named by a return annotation, whether evaluated or a string (`from __future__ import annotations`)."""
    if isinstance(annotation, str):
        found = []
        for dotted in re.findall(r"[A-Za-z_][\w.]*", annotation):
            head, *rest = dotted.split(".")
            value = namespace.get(head)
            for part in rest:
                value = getattr(value, part, None)
            found.append(value)
        return found
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [t for arg in typing.get_args(annotation) for t in _output_types(arg, namespace)]
    return []


def output_class(function: Any) -> type | None:
    """The ModelOutput subclass `forward` returns: return annotation, then docstring, then `return X(`."""
    from transformers import modeling_outputs
    from transformers.utils import ModelOutput as base

    target = inspect.unwrap(function)
    namespace = {**vars(modeling_outputs), **target.__globals__}

    def first_output(candidates: list[Any]) -> type | None:
        return next((c for c in candidates if isinstance(c, type) and issubclass(c, base) and c is not base), None)

    found = first_output(_output_types(inspect.signature(function).return_annotation, namespace))
    if found is None:
        returns = (function.__doc__ or "").partition("Returns:")[2][:400]
        names = [name.rpartition(".")[2] for name in re.findall(r"`~?([\w.]+)`", returns)]
        found = first_output([namespace.get(name) for name in names])
    if found is None:
        try:
            names = re.findall(r"return\s+(\w+)\(", inspect.getsource(target))
        except (OSError, TypeError):
            names = []
        found = first_output([namespace.get(name) for name in names])
    return found


def output_fields(output: type) -> list[OutputField]:
    if not dataclasses.is_dataclass(output):
        return []
    shapes = documented_shapes(output.__doc__)
    return [OutputField(f.name, annotation_text(f.type), shapes.get(f.name)) for f in dataclasses.fields(output)]


def live_contract(
    cls: type, auto_class: str, raw_config: dict[str, Any], attribute_map: dict[str, str]
) -> Contract | None:
    """forward's contract, or None for the rare model class without a forward (a tokenizer model)."""
    try:
        _, forward = find_method(cls, "forward")
    except BadInputError:
        return None
    output = output_class(forward)
    fields = output_fields(output) if output is not None else []
    shapes, notes = main_output(auto_class, raw_config, attribute_map, fields or None)
    returns = annotation_text(inspect.signature(forward).return_annotation)
    if output is None and returns is None:
        notes.append("forward declares no return type, and its docstring names no output class")
    return Contract(
        method="forward", inputs=_inputs(forward), returns=returns,
        output_class=output.__name__ if output else None, output_module=output.__module__ if output else None,
        output_fields=fields, main_output=shapes, notes=notes,
    )
