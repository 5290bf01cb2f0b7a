"""`inspect_model`: what is inside a checkpoint — parameters, dtypes, memory, and what a head would load —
from config.json and safetensors headers, before any weight is downloaded.

The facts come from the safetensors headers when the checkpoint has them; otherwise (config only, or a
pickle-based `pytorch_model.bin`, never unpickled) from the model built on the meta device. The chosen
head (default: native) is always built on the meta device too, to predict what `from_pretrained` would
report for it; what a build told is remembered (`meta_cache`), so the next inspection of the model, or
of any with the same config, imports neither torch nor transformers. This is the core other commands
reuse (`amx check`, `amx doctor`).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

from ..base.errors import AmxError, ConfigTooLargeError, TorchMissingError
from ..compat.torch_extra import torch_installed
from ..files.reference import ModelRef, ResolvedConfig
from ..formats.param_groups import group_tensors
from ..formats.safetensors_header import CheckpointHeaders, read_headers, tensor_specs
from ..formats.tensors import (
    DTYPE_BITS,
    TensorSpec,
    elements_by_dtype,
    main_dtype,
    memory_for,
)
from ..knowledge.config_summary import ConfigSummary, summarize_config
from ..knowledge.head_index import HeadIndex, load_index
from ..knowledge.heads import HeadsReport
from ..knowledge.kv_cache import (
    UNREADABLE_CONFIG,
    CacheLayout,
    KvCache,
    cache_layout,
    kv_cache,
)
from ..knowledge.moe import moe_summary
from ..knowledge.quantization.config import QuantizationSpec, read_quantization
from ..knowledge.quantization.loading import FAILS, LoadOutcome
from ..knowledge.quantization.machine import Device
from ..knowledge.tasks import task_info
from ..knowledge.towers import towers
from ..meta import meta_cache
from ..meta.load_prediction import LoadPrediction, predict_loading
from ..meta.meta_build import MetaModel, describe, instantiate, resolve_head
from ..shapes.adapter import (
    AdapterInfo,
    carried_by_adapter,
    missing_target_modules,
    note_dropped_tensors,
    read_adapter_weights,
)
from .quantized import (
    as_loaded,
    describe_quantization,
    outcome_here,
    unnamed_new_weights,
)
from .report import (
    DECODER_HEADS,
    PICKLE_NOTE,
    HeadCheck,
    HeaderFacts,
    HeadersCallback,
    InspectReport,
    ProgressCallback,
    Quantization,
)


@dataclass
class _Listing:
    """The tensors to show and what they add up to, from one source."""

    tensors: list[TensorSpec]
    total: int
    embedding: int | None
    data_bytes: int | None  # bytes of tensor data in the checkpoint; None without one


def _build(resolved: ResolvedConfig, auto_class: str, model_class: str, remote: bool,
           trust_remote_code: bool) -> MetaModel | AmxError:
    """The chosen head built on the meta device and described, or why it cannot be built."""
    try:
        module = instantiate(resolved.config, auto_class, model_class, remote, trust_remote_code,
                             resolved.ref.local_dir)
    except AmxError as error:
        return error
    return describe(module, auto_class, model_class.rpartition(".")[2])


@dataclass
class Expected:
    """The head's expected state: remembered from an earlier build (`meta_cache`) or built now."""

    key: meta_cache.ModelKey | None  # None: not cached (repository code that is run, --import)
    meta: MetaModel | AmxError | None  # None: not remembered yet
    importing: threading.Thread | None = None

    @classmethod
    def start(cls, config, index, auto_class: str, model_class: str, remote: bool,
              trust_remote_code: bool) -> Expected:
        """Look the build up. Repository code is never remembered once run (its files can change); untrusted,
        it is refused the same way every time, and that refusal is remembered like any failed build."""
        if remote and trust_remote_code or index.imports:  # --import: the project's classes, never cached
            return cls(None, None)
        key = meta_cache.model_key(config, index, auto_class, model_class)
        return cls(key, meta_cache.load_meta(key, str(config.path)))

    def warm(self, model_class: str, remote: bool) -> None:
        """When the build must be done, start its heavy imports in the background: while the caller reads
        headers, or once it has shown them (the import thread holds the GIL that a first answer waits for)."""
        if self.key is not None and self.meta is None and not remote:
            self.importing = meta_cache.import_in_background(model_class)

    def model(self, resolved: ResolvedConfig, auto_class: str, model_class: str, remote: bool,
              trust_remote_code: bool, need: bool, notes: list[str], tensors: list[TensorSpec] | None
              ) -> tuple[MetaModel | None, LoadPrediction | None]:
        """The described model and, given the checkpoint's tensors, the load prediction for them.

        A model that cannot be built is fatal when `need`ed (nothing else can answer), else a note.
        """
        prediction = None
        if self.key is not None and tensors is not None and isinstance(self.meta, MetaModel):
            prediction = meta_cache.load_prediction(self.key, tensors)
        if self.meta is None or (tensors is not None and prediction is None and isinstance(self.meta, MetaModel)):
            if self.importing is not None:
                self.importing.join()
            built = _build(resolved, auto_class, model_class, remote, trust_remote_code)
            if self.key is not None and not isinstance(built, (ConfigTooLargeError, TorchMissingError)):
                # too large may depend on the time taken; without torch nothing was built
                meta_cache.store_meta(self.key, built, str(resolved.config.path))
            if isinstance(built, MetaModel) and tensors is not None:
                prediction = predict_loading(built.module, tensors)
                if self.key is not None:
                    meta_cache.store_prediction(self.key, tensors, prediction)
            self.meta = built
        if isinstance(self.meta, AmxError):
            if need or isinstance(self.meta, ConfigTooLargeError):
                raise self.meta
            if not isinstance(self.meta, TorchMissingError):  # the head check itself says so
                notes.append(f"{self.meta.message}: the head could not be compared with the checkpoint")
            return None, None
        return self.meta, prediction

    def _remembered(self, load, store, compute):
        """What `compute` answers for this config: remembered under the key, else computed and stored."""
        remembered = load(self.key) if self.key is not None else None
        if remembered is not None:
            return remembered
        value = compute()
        if self.key is not None:
            store(self.key, value)
        return value

    def summary(self, config) -> ConfigSummary:
        return self._remembered(meta_cache.load_summary, meta_cache.store_summary, lambda: summarize_config(config))

    def cache_layout(self, config) -> CacheLayout:
        return self._remembered(meta_cache.load_layout, meta_cache.store_layout, lambda: cache_layout(config))


def kv_cache_of(layout: CacheLayout, dtype: str, summary: ConfigSummary, tokens: int | None, batch: int,
              notes: list[str]) -> KvCache | None:
    """The cache at the context length and for `tokens`; a note instead when a layer's cache is unknown."""
    cache = kv_cache(layout, dtype, summary.context_length, tokens, batch)
    if cache is None and layout.unknown == [UNREADABLE_CONFIG]:
        notes.append("no KV cache figure: transformers does not build this model's config (an unknown model_type)")
    elif cache is None and layout.unknown:
        notes.append("no KV cache figure: amx does not know how transformers caches "
                     + ", ".join(layout.unknown) + " layers of this model")
    return cache


def module_names(meta: MetaModel) -> list[str]:
    """Every module that holds a parameter or buffer, from their names (a remembered build has no module)."""
    names = {""}
    for name in [t.name for t in meta.parameters] + sorted(meta.embedding_names | meta.buffer_names):
        parts = name.split(".")
        names.update(".".join(parts[:end]) for end in range(1, len(parts)))
    return sorted(names)


def inspect_model(resolved: ResolvedConfig, head: str | None = None, token: str | None = None,
                  progress: ProgressCallback | None = None, trust_remote_code: bool = False,
                  adapter: AdapterInfo | None = None, index: HeadIndex | None = None,
                  model_class: str | None = None, device: Device | None = None, tokens: int | None = None,
                  batch: int = 1, on_headers: HeadersCallback | None = None) -> InspectReport:
    """Everything `amx inspect` shows, as data. Reads only config.json and safetensors headers.

    `head` is an Auto class name (default: the native head); `progress(done, total)` is called while
    the headers of a sharded checkpoint are read. With `adapter` (its tensors read), the head check is
    base + adapter: weights the adapter carries are not new, and its target modules are looked up.
    `model_class` names a transformers class that is loaded by name (`CLIPTextModelWithProjection.from_pretrained`,
    as a diffusers pipeline loads its components) instead of through an Auto class. `device` asks what
    loading a quantized checkpoint does on another machine (`--device`). `tokens` and `batch` size the KV
    cache for that many tokens (beside the figure at the context length). `on_headers(facts)` is called with
    what the safetensors headers say as soon as they are read, before torch or transformers is imported.
    """
    config = resolved.config
    notes: list[str] = []
    index = index or load_index()
    if model_class is not None:
        auto_class, remote = model_class, False
    else:
        auto_class, model_class, remote = resolve_head(config, index, head)  # bad --head fails before any read
    expected = Expected.start(config, index, auto_class, model_class, remote, trust_remote_code)
    if on_headers is None:
        expected.warm(model_class, remote)
    headers = read_headers(resolved.ref, token=token, progress=progress)
    from_headers = headers.format == "safetensors"
    tensors = tensor_specs(headers.tensors) if from_headers else None
    if on_headers is not None:
        if from_headers:
            on_headers(_header_facts(headers, tensors))
        expected.warm(model_class, remote)
    quantized = read_quantization(config.raw)
    outcome = None
    if quantized is not None:
        if expected.importing is not None:  # transformers imported from two threads at once breaks
            expected.importing.join()
        outcome = outcome_here(quantized, config.raw, tensors, device)
    compared = tensors if quantized is None else as_loaded(quantized, outcome, tensors) if tensors else None
    meta, prediction = expected.model(resolved, auto_class, model_class, remote, trust_remote_code,
                                      not from_headers, notes, compared)

    if adapter is not None and meta is not None:
        adapter.missing_target_modules = missing_target_modules(module_names(meta), adapter.target_modules)
    if adapter is not None:
        notes.extend(note_dropped_tensors(adapter, index.adapter_rules(), index.transformers_version))
    if adapter is not None and prediction is not None:
        carried = carried_by_adapter(prediction.missing_keys, adapter.tensors, index.adapter_rules())
        prediction = dataclasses.replace(prediction, missing_keys=[k for k in prediction.missing_keys if k not in carried])
    if from_headers:
        listing = _from_headers(tensors, sum(t.nbytes for t in headers.tensors), meta, prediction, notes)
    else:
        notes.append(PICKLE_NOTE if headers.format == "pickle" else
                     "no weights found (config only): the parameters are those of the model built from the config")
        listing = _Listing(meta.parameters, meta.num_parameters, meta.embedding_parameters, None)

    checkpoint_dtype = main_dtype(listing.tensors)
    quantization = None
    if quantized is not None:
        quantization = _unpacked(quantized, outcome, tensors, listing, meta, notes,
                                 prediction.model_names if prediction is not None else {})
    data_bytes = listing.data_bytes
    if data_bytes is None:
        bits = quantization.bits if quantization and quantization.bits else DTYPE_BITS.get(checkpoint_dtype, 32)
        data_bytes = (listing.total * bits + 7) // 8
        if quantization is not None and quantization.bits and listing.embedding:
            # embeddings and an untied lm_head stay unquantized, in the checkpoint's float dtype
            data_bytes += listing.embedding * (DTYPE_BITS.get(checkpoint_dtype, 16) - bits) // 8

    summary = expected.summary(config)
    cache_dtype = summary.dtype or (checkpoint_dtype if checkpoint_dtype in ("F32", "F16", "BF16") else "F16")
    return InspectReport(
        model=resolved.ref.display(),
        source="safetensors" if from_headers else "meta",
        checkpoint_format=headers.format,
        summary=summary,
        total_parameters=listing.total,
        embedding_parameters=listing.embedding,
        non_embedding_parameters=listing.total - listing.embedding if listing.embedding is not None else None,
        checkpoint_bytes=headers.total_bytes if headers.files else None,
        checkpoint_files=list(headers.files),
        checkpoint_dtype=checkpoint_dtype,
        dtypes=elements_by_dtype(listing.tensors),
        memory_bytes=memory_for(listing.total, data_bytes),
        kv_cache=(kv_cache_of(expected.cache_layout(config), cache_dtype, summary, tokens, batch, notes)
                  if auto_class in DECODER_HEADS else None),
        parameters=listing.tensors,
        groups=group_tensors(listing.tensors),
        head=_head_check(auto_class, model_class, meta, prediction, from_headers, quantized, outcome,
                         expected.meta.message if isinstance(expected.meta, TorchMissingError) else None),
        quantization=quantization,
        notes=notes,
        from_cache=resolved.from_cache,
        adapter=adapter,
        checkpoint_file_bytes=dict(headers.file_sizes) if headers.files else None,
        checkpoint_file_sha256=dict(headers.file_sha256) if headers.files else None,
        moe=_moe(summary, meta, listing, quantization is not None),
        towers=towers(config.raw, meta.parameters) if meta is not None else None,
    )


def _header_facts(headers: CheckpointHeaders, tensors: list[TensorSpec]) -> HeaderFacts:
    return HeaderFacts("safetensors", list(headers.files), headers.total_bytes, len(tensors),
                       sum(t.numel for t in tensors), elements_by_dtype(tensors))


def _moe(summary: ConfigSummary, meta: MetaModel | None, listing: _Listing, quantized: bool):
    """Experts from the model's own structure (the meta build), else from unpacked checkpoint tensors."""
    if meta is None and quantized:
        return None
    structure = meta.parameters if meta is not None else listing.tensors
    return moe_summary(summary, structure, listing.total, listing.embedding)


def _from_headers(tensors: list[TensorSpec], data_bytes: int, meta: MetaModel | None,
                  prediction: LoadPrediction | None, notes: list[str]) -> _Listing:
    embedding = None
    if prediction is not None:
        tensors = [TensorSpec(t.name, t.shape, t.dtype, buffer=t.name in prediction.not_parameters) for t in tensors]
        names = prediction.model_names
        embedding = sum(t.numel for t in tensors if names.get(t.name, t.name) in meta.embedding_names)
    elif meta is None:
        notes.append("the model was not built, so buffers saved in the checkpoint are counted as parameters")
    return _Listing(tensors, sum(t.numel for t in tensors if not t.buffer), embedding, data_bytes)


def _unpacked(quantized: QuantizationSpec, outcome: LoadOutcome, tensors: list[TensorSpec] | None, listing: _Listing,
              meta: MetaModel | None, notes: list[str], renamed: dict[str, str]) -> Quantization:
    """Quantized: a checkpoint's listing keeps the packed tensors; the totals become the unquantized model's."""
    quantization = describe_quantization(quantized, outcome, tensors, listing.data_bytes, meta, renamed)
    method = quantization.method
    if meta is None:
        notes.append(f"{method} quantized checkpoint: the counts are of the packed tensors")
        return quantization
    if listing.data_bytes is None:
        notes.append(f"{method} quantized model: the tensors listed are those of the unquantized model")
    else:
        notes.append(f"{method} quantized checkpoint: the tensors listed are the packed ones; "
                     f"unpacked, the model has {meta.num_parameters:,} parameters")
    listing.total, listing.embedding = meta.num_parameters, meta.embedding_parameters
    return quantization


def _head_check(auto_class: str, model_class: str, meta: MetaModel | None, prediction: LoadPrediction | None,
                from_headers: bool, spec: QuantizationSpec | None, quantized: LoadOutcome | None,
                without_torch: str | None) -> HeadCheck:
    """`without_torch`: why the head was not built, when torch is missing."""
    num_parameters = meta.num_parameters if meta is not None else None
    short_class = model_class.rpartition(".")[2]
    unnamed = unnamed_new_weights(spec, quantized, prediction.missing_keys) if prediction is not None else None
    if prediction is None or unnamed:
        if unnamed:
            note = unnamed
        elif without_torch:
            note = f"not predicted: {without_torch}"
        elif quantized is not None and quantized.load == FAILS:
            note = "not predicted: from_pretrained fails here for this quantized checkpoint"
        elif quantized is not None:
            note = "not predicted for a quantized checkpoint: amx does not know the layers its quantizer builds"
        elif not from_headers:
            note = "not predicted: no safetensors checkpoint to compare with"
        else:
            note = "not predicted: the model class could not be built"
        return HeadCheck(auto_class, short_class, num_parameters, None, None, None, note=note)
    note = ""
    if prediction.refused:
        note = ("shapes differ: from_pretrained raises unless ignore_mismatched_sizes=True, "
                "which then initialises those weights anew")
    elif prediction.missing_keys:
        note = f"{len(prediction.missing_keys)} weights newly initialised: fine-tune for {task_info(auto_class).task}"
    return HeadCheck(auto_class, short_class, num_parameters, prediction.missing_keys, prediction.unexpected_keys,
                     prediction.mismatched_keys, refused=prediction.refused, note=note)


def _listed(keys: list[str], limit: int = 3) -> str:
    return ", ".join(keys[:limit]) + (f", +{len(keys) - limit} more" if len(keys) > limit else "")


def check_heads_against_checkpoint(report: HeadsReport, resolved: ResolvedConfig, token: str | None = None,
                                   progress: ProgressCallback | None = None,
                                   adapter_ref: ModelRef | None = None) -> None:
    """Replace the class-level "new weights" guess of every head with the load prediction (in place).

    Needs the checkpoint's safetensors headers; without them (or for a quantized checkpoint) the
    class-level guess stays and a note says why. With `adapter_ref` (report.adapter set), weights the
    adapter carries (modules_to_save) are not new. Each head's prediction is remembered (`meta_cache`).
    """
    carried: list[TensorSpec] = []
    index = load_index()
    if adapter_ref is not None and report.adapter is not None:
        report.notes.extend(read_adapter_weights(adapter_ref, report.adapter, token))
        report.notes.extend(note_dropped_tensors(report.adapter, index.adapter_rules(), index.transformers_version))
        carried = report.adapter.tensors
    headers = read_headers(resolved.ref, token=token, progress=progress)
    if headers.format != "safetensors":
        report.notes.append("no safetensors checkpoint: 'new weights' is the class-level guess")
        return
    if not torch_installed():
        report.notes.append(f"{TorchMissingError('checking each head').message}: 'new weights' is the class-level guess")
        return
    tensors = tensor_specs(headers.tensors)
    quantized = read_quantization(resolved.config.raw)
    if quantized is not None:
        tensors = as_loaded(quantized, outcome_here(quantized, resolved.config.raw, tensors), tensors)
    if tensors is None:
        report.notes.append("quantized checkpoint whose load amx does not predict here: 'new weights' is the "
                            "class-level guess")
        return
    for head in report.heads:
        if head.remote_code:
            continue
        expected = Expected.start(resolved.config, index, head.auto_class, head.model_class, False, False)
        try:
            _, prediction = expected.model(resolved, head.auto_class, head.model_class, False, False, True, [],
                                           tensors)
        except ConfigTooLargeError:
            raise
        except AmxError as error:
            head.note = f"not checked: {error.message}"
            continue
        saved = carried_by_adapter(prediction.missing_keys, carried, index.adapter_rules())
        new = [key for key in prediction.missing_keys if key not in saved] + [m.name for m in prediction.mismatched_keys]
        head.new_weights = bool(new)
        head.note = f"new: {_listed(new)}" if new else ""
        if prediction.refused:
            head.note += " (shapes differ: needs ignore_mismatched_sizes=True)"
