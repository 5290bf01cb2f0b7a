"""Which Auto heads fit a config, which one is native, and which would start from fresh weights."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..base.errors import ConfigError, UnsupportedModelError
from ..compat.adapters import AdapterLoading
from ..files.config_reader import ModelConfig
from ..shapes.adapter import AdapterInfo
from .head_index import HeadIndex
from .tasks import native_priority, task_info

BASE_MODEL_AUTO = "AutoModel"


@dataclass
class Head:
    auto_class: str
    model_class: str  # for remote code: the auto_map reference, e.g. "modeling_mpt.MPTForCausalLM"
    task: str
    hub_task: str | None  # the Hub's task tag, e.g. "text-generation"
    native: bool
    remote_code: bool
    # True: loading the checkpoint with this head initialises the head's weights from scratch;
    # False: every weight of this head is in the checkpoint; None: cannot tell from the config.
    new_weights: bool | None
    note: str = ""
    registered_by: str | None = None  # the --import module that registered this head's model class


@dataclass
class HeadsReport:
    model: str
    model_type: str | None
    config_class: str | None
    architectures: list[str]
    transformers_version: str
    native_head: str | None
    heads: list[Head]
    notes: list[str] = field(default_factory=list)
    from_cache: bool = False
    adapter: AdapterInfo | None = None  # MODEL is a PEFT adapter: the heads are its base model's
    registered_by: str | None = None  # the --import module that registered the model_type with AutoConfig


def choose_model_class(candidates: list[str], architectures: list[str]) -> str:
    """What `_get_model_class` picks: the first architecture among the candidates, else the first candidate."""
    for architecture in architectures:
        if architecture in candidates:
            return architecture
    return candidates[0]


def _remote_heads(config: ModelConfig) -> list[Head]:
    heads = []
    for auto_class, reference in config.auto_map.items():
        if not (auto_class.startswith("AutoModel") or auto_class == "AutoBackbone"):
            continue
        info = task_info(auto_class)
        heads.append(
            Head(auto_class, reference, info.task, info.hub_task, native=False, remote_code=True,
                 new_weights=None, note="repository code: needs --trust-remote-code to load")
        )
    return heads


def _new_weights(model_class: str, native_class: str | None, base_class: str | None) -> tuple[bool | None, str]:
    """Class-level prediction; `amx inspect` refines it from the checkpoint's tensor names."""
    if native_class is None:
        return None, "checkpoint's head unknown (no architectures)"
    if model_class == native_class:
        return False, ""
    if model_class == base_class:
        return False, f"drops the {native_class} head's weights"
    return True, f"head not in a {native_class} checkpoint"


def _predict_for_port(heads: list[Head], port: Head, remote_class: str, base_class: str | None) -> None:
    """The checkpoint was saved by the repository's class (architectures `MPTForCausalLM`, auto_map) of a model_type
    transformers knows. Without trust_remote_code transformers loads its built-in class for that Auto class instead
    (`MptForCausalLM`), a port that reads the same checkpoint: the built-in heads are judged against the port."""
    for head in heads:
        head.new_weights, head.note = _new_weights(head.model_class, port.model_class, base_class)
    for head in heads:
        if head.model_class == port.model_class:
            head.note = f"built-in port of the repository's {remote_class}: loads without --trust-remote-code"


def heads_for_config(config: ModelConfig, index: HeadIndex, model: str) -> HeadsReport:
    """The full heads report for one config; never imports transformers."""
    notes: list[str] = []
    remote = _remote_heads(config)
    config_class = index.config_class_for(config.model_type) if config.model_type else None

    if config_class is None and not remote:
        if config.model_type is None:
            raise ConfigError(
                f"{config.path}: no model_type, so transformers cannot tell which model this is",
                hint="add \"model_type\" to config.json",
            )
        if index.imports:
            raise UnsupportedModelError(
                f"model_type {config.model_type!r} is neither in transformers {index.transformers_version} nor "
                f"registered by {', '.join(index.imports)}",
                hint=f"register it there with AutoConfig.register({config.model_type!r}, ...), or --import the "
                     "module that does",
            )
        raise UnsupportedModelError(
            f"model_type {config.model_type!r} is not known to the installed transformers {index.transformers_version}",
            hint="upgrade transformers (pip install -U transformers) or check the model's documentation; "
                 "if your code registers it (AutoConfig.register), pass --import with that module",
        )
    if config_class is None:
        notes.append(
            f"model_type {config.model_type!r} is not in transformers {index.transformers_version}: "
            "only the repository's own code (auto_map) can load it"
        )

    mapped = index.heads_for(config_class) if config_class else {}
    architectures = config.architectures
    native_class = config.native_architecture
    base_candidates = mapped.get(BASE_MODEL_AUTO)
    base_class = choose_model_class(base_candidates, architectures) if base_candidates else None

    registered = index.registered_heads.get(config_class or "", {})
    heads = []
    for auto_class, candidates in mapped.items():
        model_class = choose_model_class(candidates, architectures)
        info = task_info(auto_class)
        new_weights, note = _new_weights(model_class, native_class, base_class)
        heads.append(Head(auto_class, model_class, info.task, info.hub_task, False, False, new_weights, note,
                          registered_by=registered.get(auto_class)))

    native = _pick_native([h for h in heads if h.model_class == native_class])
    if native is None:
        native = _pick_native([h for h in remote if h.model_class.rpartition(".")[2] == native_class])
    if native is not None:
        native.native = True
        native.new_weights, native.note = False, native.note if native.remote_code else ""
        port = next((h for h in heads if h.auto_class == native.auto_class), None) if native.remote_code else None
        if port is not None:
            _predict_for_port(heads, port, native_class, base_class)
    elif native_class and mapped:
        notes.append(
            f"architectures[0] {native_class!r} is not a class any Auto head of transformers "
            f"{index.transformers_version} builds for {config.model_type!r}"
        )
    elif not native_class:
        notes.append("config.json lists no architectures: the checkpoint's own head is unknown")
    if remote and config_class is not None:
        notes.append("auto_map present: with --trust-remote-code transformers may use the repository's code instead")

    return HeadsReport(
        model=model,
        model_type=config.model_type,
        config_class=config_class,
        architectures=architectures,
        transformers_version=index.transformers_version,
        native_head=native.auto_class if native else None,
        heads=heads + remote,
        notes=notes,
        registered_by=index.registered_configs.get(config.model_type or ""),
    )


def _pick_native(candidates: list[Head]) -> Head | None:
    if not candidates:
        return None
    return min(candidates, key=lambda head: native_priority(head.auto_class))


def adapt_heads(report: HeadsReport, info: AdapterInfo, loading: AdapterLoading) -> None:
    """The base's heads as the adapter changes them (in place): the head its task type implies is native,
    and that head's weights saved with the adapter (modules_to_save) are not new if transformers restores them."""
    report.adapter = info
    task_head = next((head for head in report.heads if head.auto_class == info.task_head and not head.remote_code), None)
    if info.task_head and task_head is None:
        report.notes.append(f"task_type {info.task_type} implies {info.task_head}, which does not fit the base model")
    if task_head is None:
        return
    for head in report.heads:
        head.native = head is task_head
    report.native_head = task_head.auto_class
    if task_head.new_weights and info.modules_to_save:
        saved = f"modules_to_save: {', '.join(info.modules_to_save)}"
        if loading.restores_modules_to_save:
            task_head.new_weights = False
            task_head.note = f"head weights saved with the adapter ({saved})"
        else:
            task_head.note = (f"head weights saved with the adapter ({saved}), but transformers "
                              f"{report.transformers_version} does not restore them (later 5.x releases do)")
    report.notes.append(f"PEFT adapter ({info.peft_type or 'unknown type'}) on {info.base_reference}: "
                        f"native head from task_type {info.task_type}")
