"""`amx doctor MODEL`: what `AutoXxx.from_pretrained(MODEL)` would do, predicted before any download.

From config.json, the heads report and the list of weight files: whether the head fits the model
type, which weights would be new or unused, whether the installed transformers knows the model,
whether repository code or pickle files are involved, and why the repository itself may be out of
reach. Nothing is imported from the repository and no weights are read.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..analysis.heads import heads_for_repository
from ..analysis.report import HeadCheck, InspectReport, ProgressCallback
from ..analysis.repository import inspect_repository
from ..base.errors import (
    AmxError,
    BadInputError,
    ConfigError,
    ConfigTooLargeError,
    ModelNotFoundError,
    TorchMissingError,
    UnsupportedModelError,
)
from ..files.checkpoint_files import (
    PICKLE_INDEX,
    PICKLE_SINGLE,
    SAFETENSORS_INDEX,
    SAFETENSORS_SINGLE,
    open_checkpoint,
    variants_in,
    with_variant,
)
from ..files.config_reader import ModelConfig, saved_by_newer_transformers
from ..files.reference import ModelRef
from ..knowledge import findings as f
from ..knowledge.auto_class_names import auto_class_for_model, read_as
from ..knowledge.findings import Finding, verdict
from ..knowledge.gguf_config import gguf_package_problem
from ..knowledge.head_index import HeadIndex, installed_transformers
from ..knowledge.heads import HeadsReport, heads_for_config
from ..knowledge.quantization.config import read_quantization
from ..knowledge.quantization.machine import Device
from ..knowledge.registered import registration_findings
from ..knowledge.tasks import TASK, task_info
from ..repository.dispatch import Repository, resolve_repository
from ..repository.gguf_model import GgufModel
from .quantized import quantization_findings

# Exactly the names from_pretrained looks for (other *.safetensors need variant= or are not transformers').
SAFETENSORS_FILES = (SAFETENSORS_SINGLE, SAFETENSORS_INDEX)
PICKLE_FILES = (PICKLE_SINGLE, PICKLE_INDEX)
_OTHER_FORMATS = {
    re.compile(r"tf_model\.h5"): "TensorFlow weights (tf_model.h5)",
    re.compile(r"flax_model\.msgpack"): "Flax weights (flax_model.msgpack)",
    re.compile(r"consolidated(\..*)?\.safetensors"): "Mistral-format weights (consolidated.safetensors)",
    re.compile(r".*\.gguf"): "GGUF files",
}
# Findings guessed from the classes, which a key-by-key comparison with the checkpoint replaces.
_CLASS_LEVEL = {"new-weights", "unused-weights", "unknown-checkpoint-head"}
# ModelNotFoundError messages of reference.py and hub.py -> the finding that explains them.
_NOT_FOUND = [
    (re.compile(r"adapter_config\.json: (the )?base model "), lambda m, model: f.adapter_base(m.string)),
    (re.compile(r"(?P<repo>\S+) is gated"), lambda m, model: f.gated_repo(m["repo"])),
    (re.compile(r"repository (?P<repo>\S+) not found"), lambda m, model: f.repo_not_found(m["repo"])),
    (re.compile(r"revision (?P<rev>'[^']*'|\S+) not found in (?P<repo>\S+)"),
     lambda m, model: f.revision_not_found(m["rev"].strip("'"), m["repo"])),
    (re.compile(r"config\.json not found|without config\.json"), lambda m, model: f.no_config(model)),
]


@dataclass
class DoctorReport:
    mode: str  # "model": predicted from a model's files; "text": recognised in an error text
    subject: str  # the model reference, or "error text"
    head: str | None  # the Auto class examined
    model_class: str | None  # the class that Auto class would build
    model_type: str | None
    transformers_version: str  # installed
    verdict: str  # ok | warn | fail
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)


def make_report(mode: str, subject: str, findings: list[Finding], index: HeadIndex, head: str | None = None,
                model_class: str | None = None, model_type: str | None = None,
                notes: list[str] | None = None) -> DoctorReport:
    """A report with one finding per code (the first one), errors first; findings naming weights stay apart
    when they differ (a log of several loads: each load's weights)."""
    kept: list[Finding] = []
    for finding in findings:
        same = [other for other in kept if other.code == finding.code]
        if not same or (finding.keys and all(other.keys and other.message != finding.message for other in same)):
            kept.append(finding)
    ordered = sorted(kept,
                     key=lambda finding: (f.ERROR, f.WARNING, f.UNCHECKED, f.INFO).index(finding.severity))
    return DoctorReport(mode, subject, head, model_class, model_type, index.transformers_version, verdict(ordered),
                        ordered, notes or [])


def _not_found_finding(error: ModelNotFoundError, model: str) -> Finding:
    for pattern, build in _NOT_FOUND:
        match = pattern.search(error.message)
        if match:
            return build(match, model)
    return f.not_found(error.message)


def _version_findings(config: ModelConfig, index: HeadIndex) -> list[Finding]:
    if not saved_by_newer_transformers(config, index.transformers_version):
        return []
    return [f.newer_transformers(config.transformers_version, index.transformers_version)]


def _model_type_findings(config: ModelConfig, index: HeadIndex, where: str) -> list[Finding]:
    remote_config = config.auto_map.get("AutoConfig")
    if config.model_type is None:
        return [f.remote_code_required("the configuration class", remote_config) if remote_config
                else f.no_model_type(where)]
    if index.config_class_for(config.model_type) is not None:
        return _version_findings(config, index)
    if remote_config:
        return [f.remote_code_required(f"model_type {config.model_type!r}", remote_config)]
    if index.imports:
        return [f.unregistered_model_type(config.model_type, index.transformers_version, index.imports)]
    return [f.unknown_model_type(config.model_type, index.transformers_version, config.transformers_version)]


def choose_head(requested: str | None, report: HeadsReport, index: HeadIndex) -> tuple[str, str | None]:
    """The Auto class to examine and, when a short form was given, how it was read.

    Default: the native head, else AutoModel. `--head` is read as every command reads a head
    (auto_class_names.auto_class_for_model); a single Auto class that the model does not support is
    examined, and reported as unsupported.
    """
    supported = [head.auto_class for head in report.heads]
    if requested is None:
        return report.native_head or ("AutoModel" if "AutoModel" in supported or not supported else supported[0]), None
    chosen = auto_class_for_model(requested, index.auto_classes, report)
    return chosen, read_as(requested, chosen)


def _checkpoint_class(report: HeadsReport, config: ModelConfig) -> str | None:
    """The built-in class the checkpoint's head loads into: architectures[0], or the built-in port of the
    repository's class when that is what architectures names (MPTForCausalLM -> MptForCausalLM)."""
    port = next((h.model_class for h in report.heads if h.auto_class == report.native_head and not h.remote_code), None)
    return port or config.native_architecture


def _head_findings(head: str, report: HeadsReport, config: ModelConfig, index: HeadIndex) -> list[Finding]:
    local = next((h for h in report.heads if h.auto_class == head and not h.remote_code), None)
    remote = next((h for h in report.heads if h.auto_class == head and h.remote_code), None)
    native = report.native_head if report.native_head != head else None
    if local is None and remote is not None:
        return [f.remote_code_required(f"{head} for this model", remote.model_class)]
    if local is None:
        supported = list(dict.fromkeys(h.auto_class for h in report.heads))
        return [f.unsupported_head(head, report.config_class or "its configuration class", config.model_type,
                                   index.transformers_version, supported, report.native_head)]
    found = [f.remote_code_available(head, remote.model_class, local.model_class)] if remote else []
    if local.new_weights is None:
        found.append(f.unknown_checkpoint_head())
    elif local.new_weights:
        found.append(f.new_weights(local.model_class, None, native))
    elif local.model_class != _checkpoint_class(report, config):  # the base model of a checkpoint with a head
        found.append(f.unused_weights(local.model_class, None, native))
    return found


def _weight_findings(ref: ModelRef, token: str | None) -> tuple[list[Finding], bool]:
    """From the names of the weight files, as from_pretrained looks for them (listed, never opened):
    the findings, and whether there are safetensors to compare the head with."""
    try:
        names = set(open_checkpoint(ref, token).root_files())
    except BadInputError as error:  # a weight file that cannot be read: transformers fails on it too
        return [f.bad_weights(error.message)], False
    except AmxError as error:
        return [f.weights_not_checked(error.message)], False
    if names & {with_variant(name, ref.variant) for name in SAFETENSORS_FILES}:
        return [], True
    pickles = [with_variant(name, ref.variant) for name in PICKLE_FILES if with_variant(name, ref.variant) in names]
    if pickles:
        return [f.pickle_weights(pickles)], False
    variants = variants_in(sorted(names))
    if ref.variant is not None:
        plain = bool(names & {*SAFETENSORS_FILES, *PICKLE_FILES})
        return [f.no_variant_weights(ref.display(), ref.variant, variants, plain)], False
    if variants:
        return [f.variant_required(ref.display(), variants)], False
    others = sorted({label for pattern, label in _OTHER_FORMATS.items() for name in names if pattern.fullmatch(name)})
    return [f.no_weights(ref.display(), others)], False


def _checkpoint_findings(repository: Repository, head: str, native: str | None, token: str | None,
                         progress: ProgressCallback | None, notes: list[str],
                         quantized: list[Finding], device: Device | None = None) -> list[Finding] | None:
    """What from_pretrained would report for `head`, key by key, from the safetensors headers and the
    head built on the meta device (imports torch); None when that cannot be predicted. For an adapter,
    base + adapter: weights it carries are not new, and its target modules must exist. What loading a
    quantized checkpoint does here goes to `quantized`."""
    try:
        report = inspect_repository(repository, head=head, token=token, progress=progress, device=device)
        check = report.head
    except ConfigTooLargeError:
        raise
    except TorchMissingError as error:  # the quantizer's checks import torch
        quantized.append(f.quantization_not_checked(error.message))
        return None
    except BadInputError as error:  # a malformed safetensors header or index: transformers fails on it too
        return [f.bad_weights(error.message)]
    except AmxError as error:  # the Hub went away, or the head cannot be built here: no prediction
        notes.append(f"weights not compared key by key: {error.message}")
        return None
    quantized += quantization_findings(report.quantization)
    if not check.predicted:
        notes.append(f"weights not compared key by key: {check.note}")
        return None
    found = []
    adapter = report.adapter
    if adapter is not None and adapter.missing_target_modules:
        found.append(f.missing_target_modules(adapter.missing_target_modules, adapter.target_modules,
                                              check.model_class))
    untargeted = (adapter.untargeted_tensors or []) if adapter is not None else []
    if untargeted:
        found.append(f.untargeted_adapter_tensors(untargeted, len(adapter.tensors)))
    by_release = [name for name in adapter.dropped_tensors or [] if name not in untargeted] if adapter else []
    if by_release:
        found.append(f.dropped_adapter_tensors(by_release, len(adapter.tensors), installed_transformers()[0]))
    if check.mismatched_keys:
        found.append(f.size_mismatch([(m.name, str(list(m.checkpoint_shape)), str(list(m.model_shape)))
                                      for m in check.mismatched_keys]))
    if check.missing_keys:
        found.append(f.new_weights(check.model_class, check.missing_keys, native))
    if check.unexpected_keys:
        found.append(f.unused_weights(check.model_class, check.unexpected_keys, native))
    # Two task heads (classification, QA...): a head trained for one is no head of the other. Generation and
    # pre-training heads share theirs (an MLM checkpoint's cls.predictions is BertForPreTraining's own).
    task_heads = native is not None and task_info(native).rank == task_info(head).rank == TASK
    reused = _head_weights_reused(report, check) if task_heads else []
    if reused:
        found.append(f.head_from_another_task(check.model_class, reused, task_info(native).task,
                                              task_info(head).task, native))
    return found


def _head_weights_reused(report: InspectReport, check: HeadCheck) -> list[str]:
    """The checkpoint's weights outside its base model (the most common first name part: `bert.`) that
    the head loads as they are: its own head's, when the checkpoint was trained for another head."""
    prefixes = Counter(tensor.name.partition(".")[0] for tensor in report.parameters)
    if not prefixes:
        return []
    base = prefixes.most_common(1)[0][0]
    dropped = {*(check.unexpected_keys or []), *(m.name for m in check.mismatched_keys or [])}
    return [tensor.name for tensor in report.parameters
            if tensor.name.partition(".")[0] != base and tensor.name not in dropped]


def _diagnose_gguf(gguf: GgufModel, index: HeadIndex, head: str | None, named: bool) -> DoctorReport:
    """`from_pretrained(..., gguf_file=...)`: the architecture, the gguf package, then the head, by classes.
    `named`: the user named the file (--gguf-file), as from_pretrained needs it named."""
    subject = gguf.target.ref.display()
    found = []
    if (problem := gguf_package_problem()) is not None:
        found.append(f.missing_dependency("loading a GGUF file (from_pretrained(..., gguf_file=...))", "gguf",
                                          "'gguf>=0.10.0'"))
    if gguf.resolved is None:
        found.append(f.gguf_unsupported_architecture(gguf.derived.architecture, index.transformers_version))
        return make_report("model", subject, found, index, head=head, notes=[problem] if problem else [])
    if not named:
        found.append(f.gguf_file_required(subject, gguf.target.choice.name))
    config = gguf.resolved.config
    report = heads_for_config(config, index, subject)
    chosen, reading = choose_head(head, report, index)
    model_class = next((h.model_class for h in report.heads if h.auto_class == chosen), None)
    notes = [note for note in (reading, problem) if note] + [gguf.note()]
    found += _head_findings(chosen, report, config, index)
    return make_report("model", subject, found, index, head=chosen, model_class=model_class,
                       model_type=config.model_type, notes=notes)


def diagnose_model(model: str, index: HeadIndex, head: str | None = None, revision: str | None = None,
                   token: str | None = None, progress: ProgressCallback | None = None,
                   subfolder: str | None = None, gguf_file: str | None = None,
                   variant: str | None = None, device: Device | None = None) -> DoctorReport:
    """Predict `AutoXxx.from_pretrained(model)`; BadInputError for malformed references and files.

    With safetensors weights, new, unused and mismatched weights are predicted key by key (the head is
    built on the meta device, which imports torch); otherwise from the classes alone.
    """
    try:
        repository = resolve_repository(model, revision, token, subfolder, gguf_file, variant)
    except ModelNotFoundError as error:
        return make_report("model", model, [_not_found_finding(error, model)], index)
    if repository.gguf is not None:
        return _diagnose_gguf(repository.gguf, index, head, gguf_file is not None)
    if repository.resolved is None:
        return _without_auto_heads(repository, index, head)
    resolved = repository.resolved
    ref, config = resolved.ref, resolved.config
    notes = [f"the Hub could not be asked; used the cached config.json of {ref.display()}"] if resolved.from_cache else []
    if device is not None:
        notes.append(f"quantization checked for {device}, with the packages installed here")
    found = _model_type_findings(config, index, ref.display())
    if index.imports:
        found += registration_findings(config.model_type, index.config_class_for(config.model_type or ""))
    weight_findings, has_safetensors = _weight_findings(ref, token)
    chosen, model_class = head, None
    quantized: list[Finding] = []
    head_findings: list[Finding] = []
    try:
        report = heads_for_repository(repository, index)
    except (UnsupportedModelError, ConfigError):  # no heads at all: the model_type finding says why
        report = None
    if report is not None:
        chosen, reading = choose_head(head, report, index)
        notes += [reading] if reading else []
        model_class = next((h.model_class for h in report.heads if h.auto_class == chosen), None)
        head_findings = _head_findings(chosen, report, config, index)
        if report.native_head is None and config.native_architecture and report.config_class:
            head_findings = [finding for finding in head_findings if finding.code not in _CLASS_LEVEL]
            head_findings.append(f.unknown_architecture(config.native_architecture, config.model_type,
                                                        index.transformers_version, chosen, head is not None))
        builds_here = any(h.auto_class == chosen and not h.remote_code for h in report.heads)
        if has_safetensors and builds_here:
            native = report.native_head if report.native_head != chosen else None
            exact = _checkpoint_findings(repository, chosen, native, token, progress, notes, quantized, device)
            if exact is not None:  # the key-level answer replaces the class-level guess
                head_findings = [finding for finding in head_findings if finding.code not in _CLASS_LEVEL] + exact
        elif builds_here:
            quantized = _quantization_without_safetensors(repository, chosen, token, notes, device)
    return make_report("model", repository.display(), _in_load_order(found, quantized, head_findings, weight_findings),
                       index, head=chosen, model_class=model_class, model_type=config.model_type, notes=notes)


def _in_load_order(found: list[Finding], quantized: list[Finding], head_findings: list[Finding],
                   weight_findings: list[Finding]) -> list[Finding]:
    """Errors in the order from_pretrained meets them: the quantizer's checks run before the weights are
    looked for, but a quant_method the release does not know is skipped with a warning, so the weights'
    problems come first and its packed shapes fail last."""
    unknown = [finding for finding in quantized if finding.code == "unknown-quant-method"]
    checked = [finding for finding in quantized if finding.code != "unknown-quant-method"]
    return found + checked + head_findings + weight_findings + unknown


def _quantization_without_safetensors(repository: Repository, head: str, token: str | None, notes: list[str],
                                      device: Device | None) -> list[Finding]:
    """A quantized model without safetensors weights (config only, or pickle files): the quantizer's checks
    still run first, from config.json alone; the memory of a dequantizing load is that of the model built
    on the meta device (imports torch)."""
    if read_quantization(repository.resolved.config.raw) is None:  # a malformed quantization_config: exit 2
        return []
    try:
        report = inspect_repository(repository, head=head, token=token, device=device)
    except ConfigTooLargeError:
        raise
    except AmxError as error:  # torch missing, or a model that cannot be built here
        return [f.quantization_not_checked(error.message)]
    return quantization_findings(report.quantization, report.memory_bytes["checkpoint"])


def _without_auto_heads(repository: Repository, index: HeadIndex, head: str | None) -> DoctorReport:
    """A pipeline, or a component of another library: AutoXxx.from_pretrained cannot load it."""
    component = repository.component
    if component is not None:
        loader = (f"load it with {component.class_name}.from_pretrained of {component.library}"
                  if component.library and component.class_name else "load it with the library that wrote it")
    else:
        loader = ("load the pipeline with DiffusionPipeline.from_pretrained of diffusers, or "
                  + repository.no_transformers_hint())
    return make_report("model", repository.display(), [f.no_auto_heads(repository.no_transformers_model(), loader)],
                       index, head=head)
