"""`amx check`: every model of a manifest against the heads and constraints a project relies on.

Each model ends as pass, fail (incompatible: the reason in one line and what would fix it) or error
(could not be checked: network, malformed files). Models are checked in one process and concurrently,
so Hub fetches overlap. The work per model is the heads core (`heads_for_repository`) and, only when a
constraint needs the weights, the inspect core; nothing of theirs is redone here.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.heads import heads_for_repository
from ..analysis.report import InspectReport
from ..analysis.repository import inspect_repository
from ..base.errors import (
    AmxError,
    ExitCode,
    ManifestError,
    ModelNotFoundError,
    ModuleImportError,
    UnsupportedModelError,
)
from ..files.checkpoint_files import open_checkpoint, weight_files
from ..files.config_reader import saved_by_newer_transformers
from ..files.reference import ResolvedConfig, parse_reference
from ..knowledge.auto_class_names import auto_class_for_model
from ..knowledge.findings import ERROR as FINDING_ERROR
from ..knowledge.head_index import HeadIndex, load_index
from ..knowledge.heads import HeadsReport
from ..knowledge.quantization.machine import Device
from ..knowledge.registered import (
    check_module_names,
    import_modules,
    registration_findings,
)
from ..repository.dispatch import Repository, resolve_repository
from .loaded_checks import loading_checks
from .manifest import (
    Manifest,
    ModelSpec,
    Source,
    find_manifest,
    load_manifest,
    parse_entries,
)

PASS, FAIL, ERROR = "pass", "fail", "error"
MAX_WORKERS = 8
# The meta-device build imports and configures transformers process-wide: one model at a time.
_INSPECT_LOCK = threading.Lock()


@dataclass
class Check:
    """One constraint of one model: `message` says what was found, `fix` what would make it pass."""

    constraint: str  # a manifest key: "heads", "native-head", "max-parameters", ... or "model"
    status: str
    message: str
    fix: str = ""


@dataclass
class ModelResult:
    model: str
    status: str
    reason: str  # the first failing (else unchecked) constraint's message; "" on pass
    fix: str
    heads: list[str]
    checks: list[Check]
    file: str | None = None  # manifest entry, for CI annotations
    line: int | None = None
    model_type: str | None = None
    native_head: str | None = None
    from_cache: bool = False
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class CheckReport:
    manifest: str | None
    transformers_version: str
    exit_code: int  # 0 all pass, 1 some fail, 3 none fail but some could not be checked
    passed: int
    failed: int
    errors: int
    models: list[ModelResult]
    device: str | None = None  # the machine `loadable` and `max-loaded-memory` were checked for (--device)


Progress = Callable[[int, int, ModelResult | None], None]  # (done, total, result just finished)


def check_models(models: Iterable[str | dict[str, Any] | ModelSpec] | None = None, *,
                 manifest: str | os.PathLike | None = None, token: str | None = None,
                 progress: Progress | None = None, on_index_build: Callable | None = None,
                 imports: list[str] | None = None, device: Device | None = None) -> CheckReport:
    """Check models against what a project relies on; the Python API of `amx check`.

    `models`: references ("gpt2"), tables with the manifest's keys ({"model": "gpt2", "heads":
    ["AutoModelForCausalLM"], "max-parameters": "200M"}) or ModelSpecs. Without `models`, the manifest
    at `manifest` (default: amx.toml, else [tool.amx] of pyproject.toml, in the current directory).
    `imports`: modules of the project to import (run) first, as the manifest's `import = [...]`, so that
    models they register with the Auto classes count. `device`: check `loadable` and `max-loaded-memory`
    for another machine (`--device`), with the packages installed here.
    Raises ManifestError (a BadInputError) for a malformed manifest, ModuleImportError for a module that
    cannot be imported; everything else is in the report.
    """
    index = load_index(on_build=on_index_build)
    if models is not None and manifest is not None:
        raise ManifestError("give models or a manifest, not both")
    if models is None:
        loaded = _load(manifest, index)
    else:
        loaded = Manifest(None, parse_entries(models, Source("check_models()", Path.cwd()), index))
    if loaded.imports or imports:
        index = _import_registered(loaded, imports or [])
    results = _run_checks(loaded.models, index, token, progress, device)
    report = _summarize(results, index, loaded.label)
    report.device = str(device) if device is not None else None
    return report


def _load(manifest: str | os.PathLike | None, index: HeadIndex) -> Manifest:
    if manifest is not None:
        return load_manifest(Path(manifest), index, label=str(manifest))
    found = find_manifest(Path.cwd())
    if found is None:
        raise ManifestError(
            "no amx.toml, and no [tool.amx] in pyproject.toml, in the current directory",
            hint="write an amx.toml, pass --manifest FILE, or name models: amx check MODEL --head AutoModelForXxx",
        )
    return load_manifest(found, index, label=found.name)


def _import_registered(loaded: Manifest, imports: list[str]) -> HeadIndex:
    """Import the manifest's modules, then `imports`; the index is then the live one with their registrations."""
    check_module_names(imports)
    try:
        import_modules([*loaded.imports, *imports], [loaded.base] if loaded.base else [])
    except ModuleImportError as error:
        if error.module not in loaded.imports:
            raise
        where = f"{loaded.label}:{loaded.import_line}" if loaded.import_line else loaded.label
        raise ManifestError(f"{where}: import: {error.message}", error.hint, loaded.label, loaded.import_line) from None
    return load_index()


def _run_checks(specs: list[ModelSpec], index: HeadIndex, token: str | None = None,
               progress: Progress | None = None, device: Device | None = None) -> list[ModelResult]:
    """Check every model, Hub models concurrently; results in the order of `specs`."""
    results: list[ModelResult | None] = [None] * len(specs)
    if progress:
        progress(0, len(specs), None)
    # Threads only help while waiting for the Hub: local models are CPU-bound work under the GIL.
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_WORKERS, sum(map(_asks_the_hub, specs)))))
    try:
        positions = {pool.submit(_check_safely, spec, index, token, device): i for i, spec in enumerate(specs)}
        for done, future in enumerate(as_completed(positions), 1):
            result = results[positions[future]] = future.result()
            if progress:
                progress(done, len(specs), result)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # Ctrl-C does not wait for the queued models
    return [result for result in results if result is not None]


def _asks_the_hub(spec: ModelSpec) -> bool:
    try:
        return not parse_reference(spec.reference or spec.model, spec.revision, spec.subfolder).is_local
    except AmxError:
        return False


def _summarize(results: list[ModelResult], index: HeadIndex, manifest: str | None = None) -> CheckReport:
    counts = {status: sum(result.status == status for result in results) for status in (PASS, FAIL, ERROR)}
    exit_code = ExitCode.FAILURE if counts[FAIL] else ExitCode.NOT_CHECKED if counts[ERROR] else ExitCode.OK
    return CheckReport(manifest, index.transformers_version, int(exit_code),
                       counts[PASS], counts[FAIL], counts[ERROR], results)


def _check_safely(spec: ModelSpec, index: HeadIndex, token: str | None, device: Device | None) -> ModelResult:
    start = time.perf_counter()
    try:
        result = _check_model(spec, index, token, device)
    except Exception as error:  # noqa: BLE001 - one broken model must not hide the others' results
        if os.environ.get("AMX_DEBUG"):
            raise
        result = _result(spec, [Check("model", ERROR, f"unexpected {type(error).__name__}: {error}",
                                      "this is a bug in amx; rerun with AMX_DEBUG=1 and report it")])
    result.seconds = round(time.perf_counter() - start, 4)
    return result


def _check_model(spec: ModelSpec, index: HeadIndex, token: str | None = None,
                 device: Device | None = None) -> ModelResult:
    """All constraints of one model; never raises AmxError (it becomes a failed or unchecked constraint)."""
    versions = _transformers_checks(spec, index.transformers_version)
    try:
        repository = resolve_repository(spec.reference or spec.model, spec.revision, token, spec.subfolder,
                                        spec.gguf_file, spec.variant)
        if repository.kind == "gguf":
            repository.transformers_config()
    except AmxError as error:
        return _result(spec, [_from_error("model", error)] + versions)
    resolved = repository.resolved
    if resolved is None:
        checks = (_checks_without_heads(spec, repository) + versions
                  + _weights_checks(spec, repository, index, token, device))
        return _result(spec, checks)
    try:
        report = heads_for_repository(repository, index)
    except AmxError as error:
        return _result(spec, [_from_error("heads", error)] + versions, resolved)
    report.model = spec.model
    notes: list[str] = []
    checks = (_checks_from_heads(spec, report, notes, index.auto_classes) + versions
              + _weights_checks(spec, repository, index, token, device)
              + _adapter_checks(spec, repository, report, index, token))
    if index.imports:
        checks += _registration_checks(report, notes)
    if resolved.from_cache:
        notes.append("the Hub could not be asked: checked the cached config.json, which may be out of date")
        checks += _cached_weights_checks(resolved, token)
    if saved_by_newer_transformers(resolved.config, index.transformers_version):
        notes.append(f"config.json was saved by transformers {resolved.config.transformers_version}, newer than "
                     f"the installed {index.transformers_version}")
    result = _result(spec, checks, resolved, report)
    result.notes = notes
    return result


def _cached_weights_checks(resolved: ResolvedConfig, token: str | None) -> list[Check]:
    """Without the Hub, a model whose weights are not cached cannot be loaded: that is not a pass."""
    try:
        open_checkpoint(resolved.ref, token)
    except AmxError as error:
        return [Check("weights", ERROR, f"could not check the weights: the Hugging Face cache holds none and "
                                        f"{error.message}", error.hint or "")]
    return []


def _result(spec: ModelSpec, checks: list[Check], resolved: ResolvedConfig | None = None,
            report: HeadsReport | None = None) -> ModelResult:
    first = next((c for c in checks if c.status == FAIL), None) or next((c for c in checks if c.status == ERROR), None)
    return ModelResult(
        model=f"{spec.model}/{spec.subfolder}" if spec.subfolder else spec.model,
        status=first.status if first else PASS, reason=first.message if first else "",
        fix=first.fix if first else "", heads=list(spec.heads), checks=checks, file=spec.file, line=spec.line,
        model_type=resolved.config.model_type if resolved else None,
        native_head=report.native_head if report else None,
        from_cache=resolved.from_cache if resolved else False,
    )


def _from_error(constraint: str, error: AmxError) -> Check:
    """A model that is gone or unsupported fails; one that could not be read or reached is unchecked."""
    incompatible = isinstance(error, (ModelNotFoundError, UnsupportedModelError))
    prefix = "" if incompatible else "could not check: "
    fix = error.hint or ("correct the model reference or its revision" if constraint == "model" else "")
    return Check(constraint, FAIL if incompatible else ERROR, prefix + error.message, fix)


def _transformers_checks(spec: ModelSpec, installed: str) -> list[Check]:
    from packaging.version import Version

    checks = []
    if spec.min_transformers:
        ok = Version(installed) >= Version(spec.min_transformers)
        checks.append(Check("min-transformers", PASS if ok else FAIL,
                            f"transformers {installed} is {'at least' if ok else 'older than'} min-transformers "
                            f"{spec.min_transformers}",
                            "" if ok else f"pip install -U 'transformers>={spec.min_transformers}'"))
    if spec.max_transformers:
        ok = not _newer(installed, spec.max_transformers)
        checks.append(Check("max-transformers", PASS if ok else FAIL,
                            f"transformers {installed} is {'within' if ok else 'newer than'} max-transformers "
                            f"{spec.max_transformers}",
                            "" if ok else f"install a transformers within {spec.max_transformers}, "
                                          "or raise max-transformers once the model works with it"))
    return checks


def _newer(version: str, limit: str) -> bool:
    """`version` beyond `limit`, where a short limit covers its whole series: 5.23.1 is within "5.23" and "5"."""
    from packaging.version import InvalidVersion, Version

    try:
        release, bound = Version(version).release, Version(limit).release
    except InvalidVersion:
        return False
    return release[:len(bound)] > bound


def _checks_from_heads(spec: ModelSpec, report: HeadsReport, notes: list[str], auto_classes: list[str]) -> list[Check]:
    """Heads are read as every command reads them: `causal-lm` or `ner` name an Auto class, the model decides a task."""
    available = {}
    for head in report.heads:  # a built-in class wins over the repository's own code for the same Auto class
        if head.auto_class not in available or available[head.auto_class].remote_code:
            available[head.auto_class] = head
    where = f"{report.model_type or 'this model'} in transformers {report.transformers_version}"
    checks = []
    relied_on: dict[str, str] = {}  # name as written -> the Auto class it names for this model
    for name in spec.heads:
        try:
            auto_class = auto_class_for_model(name, auto_classes, report)
        except AmxError as error:
            checks.append(Check("heads", FAIL, error.message, f"{error.hint or 'give the full Auto class name'} "
                                                              f"(`amx heads {spec.model}`)"))
            continue
        relied_on[name] = auto_class
        head = available.get(auto_class)
        if head is None:
            choices = ", ".join(([report.native_head] if report.native_head else []) +
                                [h for h in available if h != report.native_head][:3])
            checks.append(Check("heads", FAIL, f"{name} cannot load {where}",
                                f"load it with {choices}, or choose another model (`amx heads {spec.model}`)"))
            continue
        if head.remote_code:
            notes.append(f"{name} runs the repository's code ({head.model_class}): needs trust_remote_code=True")
        elif head.new_weights:
            notes.append(f"{name} starts with newly initialised head weights: the checkpoint is "
                         f"{report.architectures[0]}")
        checks.append(Check("heads", PASS, f"{name} builds {head.model_class}" if name == auto_class
                            else f"{name} ({auto_class}) builds {head.model_class}"))
    if not spec.heads:
        checks.append(Check("heads", PASS, f"{len(report.heads)} heads load {where}"))
    if spec.native_head:
        checks.append(_native_check(spec, report, auto_classes))
    if not spec.allow_remote_code:
        remote = [name for name, auto_class in relied_on.items()
                  if auto_class in available and available[auto_class].remote_code]
        if report.config_class is None or remote:
            what = ", ".join(remote) if remote else f"model_type {report.model_type!r}"
            checks.append(Check("allow-remote-code", FAIL, f"{what} needs the repository's own code (auto_map)",
                                "choose a model transformers supports natively, or set allow-remote-code = true"))
        else:
            checks.append(Check("allow-remote-code", PASS, "loads without the repository's code"))
    return checks


def _registration_checks(report: HeadsReport, notes: list[str]) -> list[Check]:
    """The registration pitfalls of the model's own registered classes (`amx doctor` explains the same)."""
    checks = []
    for finding in registration_findings(report.model_type, report.config_class):
        if finding.severity == FINDING_ERROR:
            checks.append(Check("registration", FAIL, finding.message, finding.fix))
        else:
            notes.append(finding.message)
    return checks


def _native_check(spec: ModelSpec, report: HeadsReport, auto_classes: list[str]) -> Check:
    try:
        expected = auto_class_for_model(spec.native_head, auto_classes, report)
    except AmxError as error:
        return Check("native-head", FAIL, error.message, error.hint or "give the full Auto class name")
    if report.native_head == expected:
        return Check("native-head", PASS, f"the checkpoint was trained for {spec.native_head}")
    if report.native_head is None:
        found = (f"architectures[0] {report.architectures[0]!r} is no head's class" if report.architectures
                 else "config.json lists no architectures")
        return Check("native-head", FAIL, f"no native head ({found}), {spec.native_head} required",
                     "pin a revision whose config.json names the head's class in architectures")
    return Check("native-head", FAIL,
                 f"the checkpoint was trained for {report.native_head} ({report.architectures[0]}), "
                 f"not {spec.native_head}",
                 f"pin the revision that had the {spec.native_head} checkpoint, or set native-head = "
                 f"\"{report.native_head}\" if the new head is intended")


def _checks_without_heads(spec: ModelSpec, repository: Repository) -> list[Check]:
    """A pipeline or a component of another library: no Auto class loads it, so relying on one fails."""
    what = repository.no_transformers_model()
    fix = repository.no_transformers_hint()
    checks = [Check("heads", FAIL, f"{name}: {what}", fix) for name in spec.heads]
    if not spec.heads:
        checks.append(Check("heads", PASS, f"no Auto heads are relied on ({what})"))
    if spec.native_head:
        checks.append(Check("native-head", FAIL, f"no native head: {what}", fix))
    return checks


def _adapter_checks(spec: ModelSpec, repository: Repository, report: HeadsReport, index: HeadIndex,
                    token: str | None) -> list[Check]:
    """An adapter's target modules must exist in the model each head builds (peft raises when none does)."""
    adapter = repository.adapter
    if adapter is None:
        return []

    checks = []
    for name in spec.heads or [report.native_head]:
        head = auto_class_for_model(name, index.auto_classes, report) if name else None
        if head is None or not any(h.auto_class == head and not h.remote_code for h in report.heads):
            continue
        try:
            with _INSPECT_LOCK:
                inspected = inspect_repository(repository, head=head, token=token)
        except AmxError as error:
            checks.append(Check("adapter", ERROR, f"could not check the adapter on {head}: {error.message}",
                                f"`amx inspect {spec.model} --head {head}` shows the details"))
            continue
        missing = inspected.adapter.missing_target_modules if inspected.adapter else None
        targets = adapter.target_modules
        if missing and (isinstance(targets, str) or len(missing) == len(targets or [])):
            checks.append(Check("adapter", FAIL, f"none of the adapter's target modules ({', '.join(missing)}) is in "
                                f"{inspected.head.model_class}: peft raises when loading it",
                                "load the adapter on the base model it was trained on"))
        elif missing:
            checks.append(Check("adapter", FAIL, f"target modules {', '.join(missing)} are not in "
                                f"{inspected.head.model_class}: their adapter weights would be unused",
                                "load the adapter on the base model it was trained on"))
        else:
            checks.append(Check("adapter", PASS, f"every target module of the {adapter.peft_type or 'PEFT'} adapter "
                                f"is in {inspected.head.model_class}"))
    return checks


def _weights_checks(spec: ModelSpec, repository: Repository, index: HeadIndex, token: str | None,
                    device: Device | None = None) -> list[Check]:
    """Parameters, weight memory and checkpoint format, only when asked: they cost Hub requests, and
    without safetensors headers the inspect core builds the model on the meta device (torch)."""
    anatomy = {"max-active-parameters": spec.max_active_parameters, "max-kv-cache": spec.max_kv_cache}
    wanted = [key for key, on in (("max-parameters", spec.max_parameters), ("max-memory", spec.max_memory),
                                  ("require-safetensors", spec.require_safetensors), ("structure", spec.structure),
                                  ("loadable", spec.loadable), ("max-loaded-memory", spec.max_loaded_memory),
                                  *anatomy.items()) if on]
    if not wanted:
        return []
    try:
        if (spec.max_parameters or spec.max_memory or spec.structure or spec.loadable or spec.max_loaded_memory
                or any(anatomy.values()) or repository.resolved is None):
            with _INSPECT_LOCK:
                inspected = inspect_repository(repository, token=token, index=index, device=device,
                                               tokens=spec.max_kv_cache[1] if spec.max_kv_cache else None)
            checkpoint_format = inspected.checkpoint_format
        else:
            checkpoint_format = weight_files(open_checkpoint(repository.resolved.ref, token))[0]
    except AmxError as error:
        return [Check(key, ERROR, f"could not check {key}: {error.message}",
                      f"`amx inspect {spec.model}` shows the details") for key in wanted]
    checks = []
    if spec.max_parameters:
        total, limit = inspected.total_parameters, spec.max_parameters
        checks.append(Check("max-parameters", PASS if total <= limit else FAIL,
                            f"{total:,} parameters, {'within' if total <= limit else 'over'} max-parameters {limit:,}",
                            "" if total <= limit else "choose a smaller model, or raise max-parameters"))
    if spec.max_memory:
        used, limit = inspected.memory_bytes[spec.dtype or "checkpoint"], spec.max_memory
        at = f"in {spec.dtype}" if spec.dtype else f"as checkpointed ({inspected.checkpoint_dtype})"
        checks.append(Check("max-memory", PASS if used <= limit else FAIL,
                            f"the weights take {used:,} bytes {at}, {'within' if used <= limit else 'over'} "
                            f"max-memory {limit:,}",
                            "" if used <= limit else "load it in a smaller dtype (set dtype), choose a smaller "
                                                     "model, or raise max-memory"))
    if spec.require_safetensors:
        checks.append(_format_check(checkpoint_format))
    if spec.structure:
        checks.append(_structure_check(spec, inspected.structure_digest))
    if spec.loadable or spec.max_loaded_memory:
        checks += [Check(*found) for found in loading_checks(spec.loadable, spec.max_loaded_memory, inspected)]
    return checks + anatomy_checks(spec, inspected) if any(anatomy.values()) else checks


def anatomy_checks(spec: ModelSpec, inspected: InspectReport) -> list[Check]:
    """max-active-parameters (a dense model uses every parameter per token) and max-kv-cache (bytes@tokens)."""
    checks = []
    if spec.max_active_parameters:
        limit, moe = spec.max_active_parameters, inspected.moe
        active = moe.active_parameters if moe else inspected.total_parameters
        what = f"{moe.experts_per_token} of {moe.experts} experts" if moe else "a dense model: every parameter"
        checks.append(Check("max-active-parameters", PASS if active <= limit else FAIL,
                            f"{active:,} active parameters per token ({what}), "
                            f"{'within' if active <= limit else 'over'} max-active-parameters {limit:,}",
                            "" if active <= limit else "choose a model with fewer active parameters"))
    if spec.max_kv_cache:
        (limit, tokens), kv = spec.max_kv_cache, inspected.kv_cache
        if kv is None or kv.bytes_for_tokens is None:
            checks.append(Check("max-kv-cache", ERROR, "could not check max-kv-cache: amx cannot size this "
                                "model's KV cache", f"`amx inspect {spec.model}` says why"))
        else:
            used = kv.bytes_for_tokens
            checks.append(Check("max-kv-cache", PASS if used <= limit else FAIL,
                                f"the KV cache of {tokens:,} tokens takes {used:,} bytes in {kv.dtype}, "
                                f"{'within' if used <= limit else 'over'} max-kv-cache {limit:,}",
                                "" if used <= limit else "use fewer tokens, or raise max-kv-cache"))
    return checks


def _structure_check(spec: ModelSpec, digest: str | None) -> Check:
    """The pinned structure: its config and tensors changed upstream when the digest did."""
    if digest == spec.structure:
        return Check("structure", PASS, f"the structure is the pinned one ({digest})")
    return Check("structure", FAIL, f"the structure changed: {digest}, pinned {spec.structure}",
                 f"`amx diff {spec.model}@REV {spec.model}` against the revision you tested shows what changed; "
                 "if the change is intended, pin the new digest")


def _format_check(checkpoint_format: str) -> Check:
    if checkpoint_format == "safetensors":
        return Check("require-safetensors", PASS, "the weights are safetensors")
    if checkpoint_format == "gguf":
        return Check("require-safetensors", FAIL, "the weights are a GGUF file (gguf-file), not safetensors",
                     "drop gguf-file to check the repository's safetensors weights, or drop require-safetensors")
    if checkpoint_format == "pickle":
        return Check("require-safetensors", FAIL,
                     "the weights are pickle-only (.bin): loading them runs code stored in the file",
                     "pin a revision with safetensors weights, or convert them to safetensors")
    return Check("require-safetensors", ERROR, "could not check require-safetensors: no weight files found",
                 "check that the model's weights are published")
