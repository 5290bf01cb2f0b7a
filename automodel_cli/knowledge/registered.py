"""Models a project registers with the Auto classes (`AutoConfig.register`, `AutoModel.register`), made
visible by importing the project's own modules: `--import MODULE`, or `import = [...]` in a manifest.

Importing runs the user's code, so it only happens on request. Registrations live in transformers'
mappings (`_extra_content`) of this process only: the index built from them is never cached (the
cache is shared by every project); `head_index.load_index` returns it for the rest of the process.
Each registration is attributed to the imported module during whose import it appeared, and the facts
behind the registration pitfalls (docs/registered-models.md) are read off the classes here, so the
rest of amx works on plain dataclasses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base.errors import AmxError, BadInputError, ModuleImportError
from . import findings as f
from .findings import Finding
from .head_index import auto_model_classes, build_index, use_live_index

CONFIG_AUTO = "AutoConfig"
_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


@dataclass(frozen=True)
class Registration:
    """One entry a project added to an Auto mapping."""

    auto_class: str  # "AutoConfig", or the Auto model class it was registered with
    key: str  # AutoConfig: the model_type; an Auto model class: the configuration class
    registered_class: str  # the configuration class (AutoConfig) or the model class
    module: str  # the imported module (as named by the user) whose import registered it
    defined_in: str  # the module of registered_class
    shadows_builtin: bool  # the key is transformers' own model_type, or a configuration class it already maps
    class_model_type: str | None = None  # AutoConfig: the configuration class's model_type attribute
    model_config_class: str | None = None  # Auto model class: the model class's config_class attribute
    config_class_matches: bool = True  # Auto model class: that config_class is the registered class itself
    pretrained_model: bool = True  # Auto model class: the model class derives from PreTrainedModel


@dataclass
class Imports:
    modules: list[str]
    registrations: list[Registration]


class RegistrationError(ModuleImportError):
    """An import that failed inside `AutoXxx.register`: one of the registration pitfalls, as a finding."""

    def __init__(self, module: str, detail: str, finding: Finding) -> None:
        super().__init__(module, detail, hint=finding.fix)
        self.finding = finding


_imports: Imports | None = None


def current() -> Imports | None:
    """What the `--import` modules registered in this process, or None when none were imported."""
    return _imports


def check_module_names(modules: list[str]) -> list[str]:
    """The names, or BadInputError for one that is not a dotted module name (a path, a relative name...)."""
    for name in modules:
        if not isinstance(name, str) or not _MODULE_NAME.fullmatch(name):
            raise BadInputError(f"--import {name!r}: not a module name",
                                hint="give a dotted module name as for `python -c 'import pkg.models'`, not a path")
    return modules


def import_modules(modules: list[str], search_paths: Sequence[Path] = ()) -> Imports:
    """Import `modules` (running them) in order, record what each registered, and make the live mappings
    the index of this process. The current directory, then `search_paths`, are importable as with
    `python -c`. Raises ModuleImportError (exit 2) naming the module and its exception."""
    global _imports
    check_module_names(modules)
    _make_importable([Path.cwd(), *search_paths])

    registrations = list(_imports.registrations) if _imports else []
    for name in modules:
        # Before transformers is imported nothing is registered: a module that fails fails fast.
        before = _registered_now() if "transformers.models.auto.modeling_auto" in sys.modules else {}
        _import(name)
        for auto, (mapping, entries) in _registered_now().items():
            for key, value in entries.items():
                if before.get(auto, (None, {}))[1].get(key) is not value:
                    registrations.append(_describe(auto, key, value, name, mapping))
    _imports = Imports([*(_imports.modules if _imports else []), *modules], registrations)
    index = build_index(include_registered=True)
    registered_heads: dict[str, dict[str, str]] = {}
    for entry in registrations:
        if entry.auto_class != CONFIG_AUTO:
            registered_heads.setdefault(entry.key, {})[entry.auto_class] = entry.module
    use_live_index(dataclasses.replace(
        index, imports=list(_imports.modules), registered_heads=registered_heads,
        registered_configs={r.key: r.module for r in registrations if r.auto_class == CONFIG_AUTO}))
    return _imports


def _registered_now() -> dict[str, tuple[Any, dict]]:
    """Auto class -> (its mapping, a copy of what is registered in it), AutoConfig included."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    mappings = {CONFIG_AUTO: CONFIG_MAPPING, **{name: cls._model_mapping for name, cls in auto_model_classes()}}
    return {auto: (mapping, dict(mapping._extra_content)) for auto, mapping in mappings.items()}


def _make_importable(paths: list[Path]) -> None:
    present = {os.path.abspath(entry or os.curdir) for entry in sys.path}
    for path in reversed(paths):
        if str(path.resolve()) not in present:
            sys.path.insert(0, str(path.resolve()))


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    text = text if len(text) <= 300 else f"{text[:147]} ... {text[-147:]}"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _import(name: str) -> None:
    """Import one module; its prints go to stderr so that `--json` output stays clean."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            importlib.import_module(name)
    except KeyboardInterrupt:
        raise
    except (Exception, SystemExit) as error:  # noqa: BLE001 - the user's module may raise anything
        detail = _one_line(error)
        finding = registration_error_finding(error, name)
        if finding is not None:
            raise RegistrationError(name, detail, finding) from None
        if isinstance(error, ModuleNotFoundError) and error.name and (name + ".").startswith(error.name + "."):
            top = error.name.partition(".")[0]
            hint = (f"run amx from the folder that holds {top}, or add that folder to PYTHONPATH" if error.name == top
                    else f"{error.name.rpartition('.')[0]} was found but not {error.name}: check the module's name")
            raise ModuleImportError(name, detail, hint=hint) from None
        raise ModuleImportError(name, detail, hint=f"python -c 'import {name}' shows the traceback") from None


def _describe(auto: str, key: Any, value: Any, module: str, mapping: Any) -> Registration:
    if auto == CONFIG_AUTO:
        return Registration(
            auto, key, value.__name__, module, value.__module__, shadows_builtin=key in mapping._mapping,
            class_model_type=getattr(value, "model_type", None))
    from transformers import PreTrainedModel

    model = value[0] if isinstance(value, (list, tuple)) else value
    own_config = getattr(model, "config_class", None)
    builtin = mapping._reverse_config_mapping.get(key.__name__) in mapping._model_mapping
    return Registration(
        auto, key.__name__, model.__name__, module, model.__module__, shadows_builtin=builtin,
        model_config_class=_config_name(own_config, key), config_class_matches=own_config is key,
        pretrained_model=isinstance(model, type) and issubclass(model, PreTrainedModel))


def _config_name(own_config: Any, registered: type) -> str | None:
    """A model class's config_class by name; a different class of the registered class's name by its full name."""
    if own_config is None:
        return None
    name = getattr(own_config, "__name__", str(own_config))
    if name == registered.__name__ and own_config is not registered:
        return f"{own_config.__module__}.{getattr(own_config, '__qualname__', name)}"
    return name


def registration_findings(model_type: str | None, config_class: str | None) -> list[Finding]:
    """The registration pitfalls that concern a model of `model_type` (built with `config_class`)."""
    found = []
    for entry in _imports.registrations if _imports else []:
        if entry.auto_class == CONFIG_AUTO and entry.key == model_type:
            if entry.class_model_type != entry.key:
                found.append(f.registered_model_type_mismatch(entry.registered_class, entry.key,
                                                              entry.class_model_type, entry.module))
            if entry.shadows_builtin:
                found.append(f.registered_shadows_builtin(f"the configuration class {entry.registered_class}",
                                                          entry.key, entry.module, "transformers' own class"))
        elif entry.auto_class != CONFIG_AUTO and entry.key == config_class:
            if not entry.pretrained_model:
                found.append(f.registered_not_pretrained_model(entry.auto_class, entry.registered_class, entry.module))
            elif not entry.config_class_matches:
                found.append(f.registered_config_class_mismatch(
                    entry.auto_class, entry.registered_class, entry.key, entry.model_config_class, entry.module))
            if entry.shadows_builtin:
                found.append(f.registered_shadows_builtin(
                    f"{entry.registered_class} for {entry.auto_class}", model_type or entry.key, entry.module,
                    f"transformers' own class for {entry.key}"))
    return found


def _register_frames(error: BaseException) -> list[dict[str, Any]]:
    """Local variables of the `register` functions of transformers' Auto classes the error went through."""
    frames = []
    trace = error.__traceback__
    while trace is not None:
        code = trace.tb_frame.f_code
        if code.co_name == "register" and "models/auto/" in code.co_filename.replace(os.sep, "/"):
            frames.append(trace.tb_frame.f_locals)
        trace = trace.tb_next
    return frames


def _name(value: Any) -> str:
    return getattr(value, "__name__", str(value))


def registration_error_finding(error: BaseException, module: str) -> Finding | None:
    """The pitfall behind an exception raised by `AutoConfig.register` / `AutoXxx.register`, else None.

    transformers itself refuses a config class whose model_type is not its key, a model class whose
    config_class is not (by name) the registered one, and a key it already has without exist_ok=True.
    """
    frames = _register_frames(error)
    if not frames:
        return None
    outer, text = frames[0], str(error)
    if "model_type" in outer and "config" in outer:  # AutoConfig.register(model_type, config)
        config, key = outer["config"], outer["model_type"]
        if "already used" in text:
            return f.registered_builtin_refused(f"the configuration class {_name(config)} as {str(key)!r}", module)
        return f.registered_model_type_mismatch(_name(config), str(key), getattr(config, "model_type", None), module)
    if "model_class" in outer and "config_class" in outer:  # AutoXxx.register(config_class, model_class)
        auto, config, model = _name(outer.get("cls")), outer["config_class"], outer["model_class"]
        if "already used" in text:
            return f.registered_builtin_refused(f"{_name(model)} for {auto} with {_name(config)}", module)
        own = getattr(model, "config_class", None)
        return f.registered_config_class_mismatch(auto, _name(model), _name(config),
                                                  None if own is None else _name(own), module)
    return None


def import_transformers_class(auto_class: str, model_type: str, class_name: str) -> type:
    """The class `AutoXxx.from_config` builds, loaded the way the Auto mapping loads it (one model module)."""
    from transformers import CONFIG_MAPPING
    from transformers.models.auto import modeling_auto

    try:
        mapped = getattr(modeling_auto, auto_class)._model_mapping[CONFIG_MAPPING[model_type]]
    except (ValueError, AttributeError, ImportError, KeyError) as error:
        raise AmxError(
            f"transformers maps {model_type!r} to {class_name} for {auto_class} but cannot load it: "
            f"{str(error).splitlines()[0] if str(error) else type(error).__name__}",
            hint="the same error would stop from_pretrained; try another transformers version",
        ) from None
    for candidate in mapped if isinstance(mapped, (list, tuple)) else (mapped,):
        if candidate.__name__ == class_name:
            return candidate
    raise AmxError(f"{auto_class} maps {model_type!r} to {mapped}, not to {class_name}")
