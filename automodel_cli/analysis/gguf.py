"""`amx inspect` of a GGUF checkpoint: tensors, GGML types, memory, and what transformers makes of it.

Everything comes from the GGUF header (gguf_header.py) and the config the installed transformers
would build from its metadata (gguf_config.py). transformers loads a GGUF file by dequantizing every
tensor to a float dtype, so the memory it takes is the parameters at that dtype, not the file's size.
"""

from __future__ import annotations

import dataclasses

from ..base.errors import AmxError, UnsupportedModelError
from ..files.config_reader import ModelConfig
from ..formats.gguf_checkpoint import GgufCheckpoint, quantization_from_name
from ..formats.gguf_header import FILE_TYPES, GgufHeader, LongArray
from ..formats.param_groups import group_tensors
from ..formats.tensors import TensorSpec, memory_for
from ..knowledge.config_summary import ConfigSummary
from ..knowledge.gguf_config import (
    derive_config,
    gguf_model_config,
    gguf_package_problem,
    load_mapping,
)
from ..knowledge.head_index import HeadIndex, load_index
from ..meta import meta_cache
from ..meta.meta_build import describe, instantiate, resolve_head
from .inspection import Expected, kv_cache_of
from .report import (
    DECODER_HEADS,
    GgufReport,
    HeadCheck,
    HeaderFacts,
    HeadersCallback,
    InspectReport,
    Quantization,
    TensorTypeStats,
)

EMBEDDING_TENSORS = {"token_embd.weight", "position_embd.weight", "token_types.weight", "output.weight"}
_FLOAT_BYTES = {"F32": 4, "F16": 2, "BF16": 2}
_TORCH_NAMES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def _tensor_types(header: GgufHeader) -> dict[str, TensorTypeStats]:
    stats: dict[str, list[int]] = {}
    for tensor in header.tensors:
        entry = stats.setdefault(tensor.ggml_type, [0, 0, 0])
        entry[0] += 1
        entry[1] += tensor.numel
        entry[2] += tensor.nbytes
    ordered = sorted(stats.items(), key=lambda item: -item[1][2])
    return {name: TensorTypeStats(n, p, b, round(b * 8 / p, 3) if p else 0.0) for name, (n, p, b) in ordered}


def _quantization(header: GgufHeader, file_name: str, types: dict[str, TensorTypeStats]) -> str | None:
    file_type = header.metadata.get("general.file_type")
    if isinstance(file_type, int) and file_type in FILE_TYPES:
        return FILE_TYPES[file_type]
    return quantization_from_name(file_name) or next(iter(types), None)


def _dequantized_dtype(header: GgufHeader, architecture: str) -> str:
    """transformers' dtype without `dtype=`: the float default (F32) for its legacy GGUF path; for
    architectures with their own builder, a float file's half type, or F32 for quantized blocks."""
    if architecture not in load_mapping().builders:
        return "F32"
    types = {t.ggml_type for t in header.tensors}
    if not types <= {"F32", "F16", "BF16"}:
        return "F32"
    return "BF16" if "BF16" in types else "F16" if "F16" in types else "F32"


def _llama_cpp_summary(header: GgufHeader) -> ConfigSummary:
    """Sizes from llama.cpp's own metadata keys, for an architecture transformers cannot load."""
    prefix = header.architecture or ""

    def number(key: str) -> int | None:
        value = header.metadata.get(f"{prefix}.{key}")
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    heads, hidden = number("attention.head_count"), number("embedding_length")
    tokens = header.metadata.get("tokenizer.ggml.tokens")
    return ConfigSummary(
        model_type=None, architecture=None, layers=number("block_count"), hidden_size=hidden,
        attention_heads=heads, key_value_heads=number("attention.head_count_kv") or heads,
        head_dim=number("attention.key_length") or (hidden // heads if hidden and heads else None),
        vocab_size=number("vocab_size") or (len(tokens) if isinstance(tokens, (list, LongArray)) else None),
        context_length=number("context_length"), intermediate_size=number("feed_forward_length"), dtype=None)


def inspect_gguf(checkpoint: GgufCheckpoint, model: str, where: str, head: str | None = None,
                 from_cache: bool = False, tokens: int | None = None, batch: int = 1,
                 on_headers: HeadersCallback | None = None):
    """Everything `amx inspect` shows for a GGUF checkpoint, as an InspectReport with a `gguf` section.

    `on_headers(facts)` is called with what the header says before anything of transformers is read."""
    header = checkpoint.header
    tensors = [TensorSpec(t.name, t.shape, t.ggml_type) for t in header.tensors]
    total = sum(t.numel for t in header.tensors)
    embedding = sum(t.numel for t in header.tensors if t.name in EMBEDDING_TENSORS)
    data_bytes = header.data_bytes
    types = _tensor_types(header)
    file_sizes = checkpoint.file_sizes
    checkpoint_bytes = None if any(s is None for s in file_sizes) else sum(file_sizes)
    from_header = GgufReport(
        file=checkpoint.choice.name,
        architecture=header.architecture or "?",
        version=header.version,
        quantization=_quantization(header, checkpoint.choice.name, types),
        tensor_types=types,
        transformers_loadable=False,
        parts=list(checkpoint.choice.parts),
        bits_per_weight=round(data_bytes * 8 / total, 3) if total else None,
        header_bytes=header.data_start,
        bytes_read=checkpoint.bytes_read,
    )
    if on_headers is not None:
        on_headers(HeaderFacts("gguf", list(checkpoint.choice.parts), checkpoint_bytes, len(tensors), total,
                               {name: s.parameters for name, s in types.items()}, from_header))
    derived = derive_config(header, where)
    notes: list[str] = list(derived.notes)

    index = load_index()
    config, head_check, kv = None, None, None
    try:
        config = gguf_model_config(derived, where, index)
    except UnsupportedModelError as error:
        notes.append(f"{error.message}: the tensors are listed from the GGUF header")
    dequantized = _dequantized_dtype(header, derived.architecture) if config is not None else None
    if config is not None:
        head_check, expected = _head(config, index, head, notes)
        summary = expected.summary(config)
        if head_check.auto_class in DECODER_HEADS:
            kv = kv_cache_of(expected.cache_layout(config), dequantized, summary, tokens, batch, notes)
    else:
        summary = _llama_cpp_summary(header)
    package = gguf_package_problem()
    if config is not None and package:
        notes.append(f"{package}: from_pretrained(..., gguf_file=...) would fail")
    report = dataclasses.replace(
        from_header,
        transformers_loadable=config is not None,
        model_type=derived.model_type,
        reason=derived.reason,
        dequantized_dtype=dequantized,
        dequantized_bytes=total * _FLOAT_BYTES[dequantized] if dequantized else None,
        config=derived.config,
        gguf_package=package,
    )
    if dequantized:
        notes.append(f"transformers dequantizes GGUF tensors when loading: {total:,} parameters in "
                     f"{_TORCH_NAMES[dequantized]} take "
                     f"{report.dequantized_bytes:,} bytes (pass dtype= to from_pretrained for another dtype)")
    main_type = next(iter(types), "F32")
    return InspectReport(
        model=model,
        source="gguf",
        checkpoint_format="gguf",
        summary=summary,
        total_parameters=total,
        embedding_parameters=embedding,
        non_embedding_parameters=total - embedding,
        checkpoint_bytes=checkpoint_bytes,
        checkpoint_files=list(checkpoint.choice.parts),
        checkpoint_dtype=main_type,
        dtypes={name: s.parameters for name, s in types.items()},
        memory_bytes=memory_for(total, data_bytes),
        kv_cache=kv,
        parameters=tensors,
        groups=group_tensors(tensors),
        head=head_check,
        quantization=Quantization("gguf " + (report.quantization or main_type), None, data_bytes, total),
        notes=notes,
        from_cache=from_cache,
        gguf=report,
    )


def _head(config: ModelConfig, index: HeadIndex, head: str | None, notes: list[str]) -> tuple[HeadCheck, Expected]:
    """The head transformers would build: its class and parameter count, from a meta-device build
    (remembered in meta_cache, as for other checkpoints, so a second inspection imports no torch), and what
    else is remembered under the same key (the config summary, the cache layout)."""
    auto_class, model_class, _ = resolve_head(config, index, head)
    expected = Expected.start(config, index, auto_class, model_class, False, False)
    meta = expected.meta
    if meta is None:
        try:
            meta = describe(instantiate(config, auto_class, model_class), auto_class, model_class)
        except AmxError as error:
            meta = error
        if expected.key is not None:
            meta_cache.store_meta(expected.key, meta, str(config.path))
    note = "not predicted for a GGUF file: transformers renames its tensors while loading"
    if isinstance(meta, AmxError):
        notes.append(f"{meta.message}: the head could not be built")
        return HeadCheck(auto_class, model_class, None, None, None, None, note=note), expected
    return HeadCheck(auto_class, model_class, meta.num_parameters, None, None, None, note=note), expected
