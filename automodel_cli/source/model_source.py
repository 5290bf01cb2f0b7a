"""`amx source`: the concrete class an Auto class builds for a model, its code, and its forward contract.

transformers' own classes are read from their files without importing them (`static_source`) when the
answer is certain to be what `inspect` would print, else imported (one model module) and read with
`inspect`; a repository's class (`auto_map`) is parsed from its file, and imported only with
--trust-remote-code.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from ..base.errors import BadInputError, TorchMissingError
from ..compat.torch_extra import torch_installed
from ..files.reference import ResolvedConfig, locate_file
from ..knowledge.head_index import HeadIndex, installed_transformers
from ..knowledge.heads import Head, HeadsReport
from ..knowledge.registered import import_transformers_class
from . import static_source
from .forward_contract import Contract
from .live_source import (
    MethodSource,
    class_source,
    live_contract,
    method_source,
    package_relative,
)
from .remote_code import (
    ParsedClass,
    code_location,
    import_remote_class,
    parse_class,
    parse_remote_class,
    static_class,
    static_contract,
    static_method,
)
from .static_source import Declined, StaticReader

DEFAULT_METHODS = ("__init__", "forward")


@dataclass
class SourceReport:
    model: str
    model_type: str | None
    architectures: list[str]
    auto_class: str
    model_class: str
    module: str
    file: str
    remote_code: bool  # the class is the repository's own code (auto_map)
    imported: bool  # False: the code was parsed from the file, never run
    transformers_version: str
    methods: list[MethodSource]
    contract: Contract | None
    notes: list[str] = field(default_factory=list)
    from_cache: bool = False


def head_for(report: HeadsReport, auto_class: str) -> Head:
    """The head `auto_class` loads: the repository's class when auto_map declares one, as the model card intends."""
    matching = [head for head in report.heads if head.auto_class == auto_class]
    return next((head for head in matching if head.remote_code), matching[0])


def source_report(
    resolved: ResolvedConfig, index: HeadIndex, report: HeadsReport, head: Head, *,
    methods: list[str] | None = None, whole_class: bool = False, trust_remote_code: bool = False,
    token: str | None = None, short_contract: bool = False,
) -> SourceReport:
    """Build the report for one head. May import transformers (never the repository's code unless trusted).

    `methods`: the methods to show; None for __init__ and forward, where a missing one is only noted.
    `short_contract`: only the contract's one-line summary is needed (names, output class and fields, main
    output), which the static reading can give; types, defaults and documented shapes need the import.
    """
    notes = []
    native = next((h for h in report.heads if h.auto_class == head.auto_class and not h.remote_code), None)
    if head.remote_code and native is not None:
        notes.append(
            f"transformers' own {native.model_class} also accepts this config; from_pretrained uses it "
            "unless trust_remote_code=True"
        )
    common = dict(model=report.model, model_type=report.model_type, architectures=report.architectures,
                  auto_class=head.auto_class, transformers_version=index.transformers_version,
                  from_cache=resolved.from_cache)
    static = None
    unimportable = not torch_installed()  # transformers' model classes need torch
    if (short_contract or unimportable) and not head.remote_code and not head.registered_by:
        static = _unimported_report(resolved, index, head, methods, whole_class, common)  # a registered class is the project's
        if static is not None and not short_contract:
            static.notes.append(TorchMissingError("the forward contract's types, defaults and shapes").message)
    if static is not None:
        result = static
    elif head.remote_code and not trust_remote_code:
        result = _static_report(resolved, head, methods, whole_class, token, common)
    else:
        if head.remote_code:
            cls = import_remote_class(resolved.ref, parse_remote_class(head.model_class), token)
            attribute_map: dict[str, str] = {}
        else:
            if unimportable:
                raise TorchMissingError(f"importing {head.model_class}")
            cls = import_transformers_class(head.auto_class, resolved.config.model_type or "", head.model_class)
            from transformers import CONFIG_MAPPING

            attribute_map = dict(getattr(CONFIG_MAPPING[resolved.config.model_type], "attribute_map", {}))
        result = _live_report(cls, head, resolved, methods, whole_class, attribute_map, common)
    result.notes[:0] = notes
    return result


def _method_names(methods: list[str] | None, whole_class: bool) -> list[str]:
    if whole_class:
        return []
    return list(DEFAULT_METHODS) if methods is None else methods


def _live_report(
    cls: type, head: Head, resolved: ResolvedConfig, methods: list[str] | None, whole_class: bool,
    attribute_map: dict[str, str], common: dict,
) -> SourceReport:
    blocks, notes = [], []
    if whole_class:
        blocks.append(class_source(cls))
    for name in _method_names(methods, whole_class):
        try:
            blocks.append(method_source(cls, name))
        except BadInputError as error:
            if methods is not None:
                raise
            notes.append(error.message)
    return SourceReport(
        **common, model_class=cls.__name__, module=cls.__module__,
        file=package_relative(inspect.getsourcefile(cls) or "?", cls.__module__),
        remote_code=head.remote_code, imported=True, methods=blocks,
        contract=live_contract(cls, head.auto_class, resolved.config.raw, attribute_map), notes=notes,
    )


def _unimported_report(
    resolved: ResolvedConfig, index: HeadIndex, head: Head, methods: list[str] | None, whole_class: bool,
    common: dict,
) -> SourceReport | None:
    """transformers' class read from its files; None whenever the static reading cannot be sure."""
    module = index.class_modules.get(head.model_class)
    if module is None:
        return None
    config_class = index.config_class_for(resolved.config.model_type or "")
    config_module = index.class_modules.get(config_class or "")
    try:
        reader = StaticReader(installed_transformers()[1])
        cls = reader.find_class(module, head.model_class)
        blocks = [static_source.class_source(cls)] if whole_class else []
        blocks += [static_source.method_source(reader, cls, name) for name in _method_names(methods, whole_class)]
        config = reader.find_class(config_module, config_class) if config_module and config_class else None
        contract = static_source.short_contract(reader, cls, head.auto_class, resolved.config.raw, config)
    except Declined:
        return None
    return SourceReport(
        **common, model_class=cls.name, module=cls.module.name,
        file=package_relative(str(cls.module.path), cls.module.name), remote_code=False, imported=False,
        methods=blocks, contract=contract,
    )


def _static_report(
    resolved: ResolvedConfig, head: Head, methods: list[str] | None, whole_class: bool, token: str | None,
    common: dict,
) -> SourceReport:
    remote = parse_remote_class(head.model_class)
    code_ref = code_location(resolved.ref, remote)
    path, _ = locate_file(code_ref, remote.filename, token)
    shown_file = f"{code_ref.display()}/{remote.filename}"
    parsed = parse_class(path, remote.class_name, remote.module, shown_file)
    notes = [f"repository code, parsed from {shown_file} and not run; --trust-remote-code imports it"]
    blocks = []
    if whole_class:
        blocks.append(static_class(parsed))
    for name in _method_names(methods, whole_class):
        block = static_method(parsed, name)
        if block is None:
            notes.append(_outside_note(parsed, name))
        else:
            blocks.append(block)
    return SourceReport(
        **common, model_class=remote.class_name, module=remote.module,
        file=shown_file, remote_code=True, imported=False, methods=blocks,
        contract=static_contract(parsed, head.auto_class, resolved.config.raw), notes=notes,
    )


def _outside_note(parsed: ParsedClass, name: str) -> str:
    bases = ", ".join(parsed.outside_bases) or "object"
    return f"{parsed.name}.{name} is not defined in {parsed.file}: it is inherited from {bases}"

