"""PEFT adapters (LoRA and the other peft types): what adapter_config.json declares, where its base model is,
and how the adapter changes what a head would load.

transformers' `AutoModelForXxx.from_pretrained(adapter)` reads adapter_config.json, follows
`base_model_name_or_path` (a local path, relative to the working directory, or a Hub id) and loads the
base's config.json and weights, then the adapter on top. amx follows the same name but reads only the
base's config.json; the adapter's own tensors come from its safetensors header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base.errors import ConfigError, InvalidReferenceError
from ..base.json_input import json_type_name
from ..compat.adapters import SAVED_PREFIX, AdapterLoading
from ..files.checkpoint_files import open_checkpoint
from ..files.reference import ModelRef, parse_reference
from ..formats.safetensors_header import read_shard, tensor_specs
from ..formats.tensors import TensorSpec

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors",)
ADAPTER_PICKLE = "adapter_model.bin"
# peft's TaskType -> the Auto class its PeftModelForXxx wraps.
TASK_HEADS = {
    "SEQ_CLS": "AutoModelForSequenceClassification",
    "CAUSAL_LM": "AutoModelForCausalLM",
    "SEQ_2_SEQ_LM": "AutoModelForSeq2SeqLM",
    "TOKEN_CLS": "AutoModelForTokenClassification",
    "QUESTION_ANS": "AutoModelForQuestionAnswering",
    "FEATURE_EXTRACTION": "AutoModel",
}
ALL_LINEAR = "all-linear"  # peft's shorthand for every linear layer but the output layer
MAX_LISTED_NAMES = 10_000
# The weights of a LoRA layer peft adds to a targeted module: `<module>.lora_A.weight`, `.lora_magnitude_vector`...
_LORA_TENSOR = re.compile(r"\.lora_(?:A|B|embedding_A|embedding_B|magnitude_vector)(?:\.|$)")


@dataclass
class AdapterInfo:
    """What adapter_config.json declares; `num_parameters` and `tensors` are filled from its safetensors header."""

    peft_type: str | None
    task_type: str | None
    base_model: str  # base_model_name_or_path, as written
    base_revision: str | None  # peft's `revision` of the base; None: the default branch
    target_modules: list[str] | str | None  # names (matched as suffixes), a regex, or "all-linear"
    modules_to_save: list[str]  # modules trained in full and saved with the adapter (a classifier)
    num_parameters: int | None = None
    rank: int | None = None  # LoRA-style r
    alpha: float | None = None  # lora_alpha
    task_head: str | None = None  # the Auto class task_type implies
    base_reference: str = ""  # the base as amx resolved it (a local folder or a Hub id)
    embedded_base: bool = False  # the adapter's folder holds config.json: transformers loads the base from it
    base_share: float | None = None  # num_parameters / the base's parameters
    files: list[str] = field(default_factory=list)
    tensors: list[TensorSpec] = field(default_factory=list)
    # Target modules the model built with the head lacks; None when not checked (no head built).
    missing_target_modules: list[str] | None = None
    # Saved tensors transformers drops as unexpected (outside target_modules, or compat/adapters.py); None: not read.
    dropped_tensors: list[str] | None = None
    untargeted_tensors: list[str] | None = None  # those of dropped_tensors outside target_modules
    loaded_parameters: int | None = None  # num_parameters without the dropped tensors


def _optional_string(raw: dict, key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, found {json_type_name(value)}")
    return value or None


def _names(raw: dict, key: str, where: str, regex_allowed: bool) -> list[str] | str | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, str) and regex_allowed:
        return value
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ConfigError(f"{where}: {key} must be a list of module names, found {json_type_name(value)}")
    if len(value) > MAX_LISTED_NAMES:
        raise ConfigError(f"{where}: {key} lists more than {MAX_LISTED_NAMES:,} names; amx refuses it")
    return list(dict.fromkeys(value))


def _number(raw: dict, key: str, where: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {key} must be a number, found {json_type_name(value)}")
    return value


def parse_adapter_config(raw: dict[str, Any], where: str) -> AdapterInfo:
    """Validate the fields amx uses; every wrong type is one ConfigError line naming the file."""
    base = raw.get("base_model_name_or_path")
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(f"{where}: base_model_name_or_path must name the base model, found {json_type_name(base)}",
                          hint="set it to the Hub id or the path of the model the adapter was trained on")
    task_type = _optional_string(raw, "task_type", where)
    rank = _number(raw, "r", where)
    return AdapterInfo(
        peft_type=_optional_string(raw, "peft_type", where),
        task_type=task_type,
        base_model=base,
        base_revision=_optional_string(raw, "revision", where),
        target_modules=_names(raw, "target_modules", where, regex_allowed=True),
        modules_to_save=_names(raw, "modules_to_save", where, regex_allowed=False) or [],
        rank=int(rank) if rank is not None else None,
        alpha=_number(raw, "lora_alpha", where),
        task_head=TASK_HEADS.get(task_type or ""),
    )


def base_model_reference(adapter_ref: ModelRef, info: AdapterInfo, where: str) -> ModelRef:
    """The base model's reference, read as transformers reads `base_model_name_or_path`.

    A local adapter may name a local path (absolute, or relative to the working directory, as
    transformers resolves it) or a Hub id. An adapter from the Hub may only name a Hub id: a path
    would point amx at this machine's files.
    """
    base = info.base_model
    if not adapter_ref.is_local and (base.startswith(("/", "~", ".")) or "\\" in base or ":" in base):
        raise InvalidReferenceError(
            f"{where}: base_model_name_or_path {shown(base)} is a path, which points outside the repository",
            hint="an adapter on the Hub must name its base model by Hub id")
    try:
        ref = parse_reference(base, info.base_revision)
    except InvalidReferenceError as error:
        raise InvalidReferenceError(f"{where}: base_model_name_or_path {shown(base)}: "
                                    f"{error.message.partition(': ')[2] or error.message}") from None
    if _same_model(ref, adapter_ref):
        raise InvalidReferenceError(f"{where}: base_model_name_or_path {shown(base)} names the adapter itself",
                                    hint="set it to the model the adapter was trained on")
    return ref


def _same_model(a: ModelRef, b: ModelRef) -> bool:
    if a.is_local or b.is_local:
        return a.local_dir is not None and b.local_dir is not None and _resolved(a.local_dir) == _resolved(b.local_dir)
    return (a.repo_id, a.revision or "main", a.subfolder) == (b.repo_id, b.revision or "main", b.subfolder)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def shown(text: str) -> str:
    """A name from a file, quoted on one line and cut to a readable length."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def model_name(saved: str) -> str:
    """A saved adapter tensor's name in the transformers model: `base_model.model.score.weight` -> `score.weight`."""
    return saved[len(SAVED_PREFIX):] if saved.startswith(SAVED_PREFIX) else saved


def carried_by_adapter(keys: list[str], adapter_tensors: list[TensorSpec], loading: AdapterLoading) -> set[str]:
    """The weights among `keys` (model names) that the adapter file holds (its modules_to_save) and the
    installed transformers restores from it."""
    if not loading.restores_modules_to_save:
        return set()
    saved = {model_name(tensor.name) for tensor in adapter_tensors}
    return {key for key in keys if key in saved}


def note_dropped_tensors(info: AdapterInfo, loading: AdapterLoading, transformers_version: str) -> list[str]:
    """Set `info.dropped_tensors`, the saved tensors transformers drops as unexpected keys: those of modules
    outside target_modules (peft makes no adapter layer for them), and those the installed release does not
    load (compat/adapters.py). Notes on them."""
    def saved_in_full(name: str) -> bool:
        module = model_name(name).rpartition(".")[0]
        return any(_targets(module, saved) for saved in info.modules_to_save)

    info.untargeted_tensors = [t.name for t in info.tensors if _outside_targets(t.name, info.target_modules)]
    by_release = [t.name for t in info.tensors
                  if t.name not in info.untargeted_tensors and not loading.loads(t.name, saved_in_full(t.name))]
    info.dropped_tensors = [t.name for t in info.tensors if t.name in info.untargeted_tensors or t.name in by_release]
    info.loaded_parameters = sum(t.numel for t in info.tensors if t.name not in info.dropped_tensors)
    notes = []
    if info.untargeted_tensors:
        notes.append(f"{len(info.untargeted_tensors)} of the adapter's {len(info.tensors)} tensors belong to modules "
                     f"outside its target_modules (e.g. {shown(info.untargeted_tensors[0])}): peft makes no adapter "
                     "layer for them, so transformers drops them as unexpected keys")
    if by_release:
        notes.append(f"transformers {transformers_version} drops {len(by_release)} of the adapter's "
                     f"{len(info.tensors)} tensors as unexpected keys (e.g. {shown(by_release[0])}): "
                     "the model loads without them (later 5.x releases load them)")
    return notes


def _outside_targets(saved: str, target_modules: list[str] | str | None) -> bool:
    """A LoRA tensor whose module target_modules does not name, matched as peft matches (see
    `missing_target_modules`); None and "all-linear" are not judged."""
    match = _LORA_TENSOR.search(saved)
    if match is None or target_modules is None or target_modules == ALL_LINEAR:
        return False
    module = model_name(saved[:match.start()])
    if isinstance(target_modules, str):
        try:
            return re.fullmatch(target_modules, module) is None
        except re.error:
            return False
    return not any(_targets(module, target) for target in target_modules)


def _targets(name: str, target: str) -> bool:
    return name == target or name.endswith("." + target)


def missing_target_modules(module_names: list[str], target_modules: list[str] | str | None) -> list[str]:
    """The target modules no module of the model matches, matched as peft matches them: a list entry is a
    module name or its last dotted parts, a string is a regular expression over whole names."""
    if target_modules is None or target_modules == ALL_LINEAR:
        return []
    if isinstance(target_modules, str):
        try:
            pattern = re.compile(target_modules)
        except re.error:
            return [target_modules]
        return [] if any(pattern.fullmatch(name) for name in module_names) else [target_modules]
    return [target for target in target_modules if not any(_targets(name, target) for name in module_names)]


def read_adapter_weights(ref: ModelRef, info: AdapterInfo, token: str | None = None) -> list[str]:
    """Fill `info.files`, `tensors` and `num_parameters` from adapter_model.safetensors' header (never its
    data; a pickled adapter_model.bin is never opened). Returns notes."""
    files = open_checkpoint(ref, token)
    name = next((name for name in ADAPTER_WEIGHTS if files.has(name)), None)
    if name is None:
        if files.has(ADAPTER_PICKLE):
            info.files = [ADAPTER_PICKLE]
            return [f"the adapter's weights are pickle-based ({ADAPTER_PICKLE}): amx never opens it, so its "
                    "tensors are not listed"]
        return ["the adapter has no adapter_model.safetensors: its tensors are not listed"]
    shard = read_shard(files.fetch(name), file=name, file_size=files.size(name), where=files.where(name),
                       guess=files.guess(None))
    info.files = [name]
    info.tensors = tensor_specs(shard.tensors)
    info.num_parameters = sum(tensor.numel for tensor in info.tensors)
    return []
