"""What `amx inspect` reports, as data: the types every shape's inspection fills and every renderer reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..formats.param_groups import ModuleNode, ParamGroup
from ..formats.tensors import TensorSpec
from ..knowledge.config_summary import ConfigSummary
from ..knowledge.kv_cache import KvCache
from ..knowledge.moe import MoeSummary
from ..meta.load_prediction import Mismatch
from ..shapes.adapter import AdapterInfo
from ..shapes.pipeline import Component
from ..shapes.sentence_transformers import SentenceModule

# Heads whose model generates token by token with a key/value cache.
DECODER_HEADS = {"AutoModelForCausalLM", "AutoModelForImageTextToText", "AutoModelForMultimodalLM",
                 "AutoModelForSeq2SeqLM", "AutoModelForSpeechSeq2Seq"}


PICKLE_NOTE = (
    "the checkpoint is pickle-based (pytorch_model.bin): loading it runs code stored in the file, so amx "
    "never opens it and listed the parameters of the model built on the meta device; prefer a safetensors checkpoint"
)


@dataclass
class HeadCheck:
    """The chosen head against the checkpoint: what `from_pretrained(..., output_loading_info=True)` reports."""

    auto_class: str
    model_class: str
    num_parameters: int | None  # model.num_parameters() of this class
    missing_keys: list[str] | None  # newly initialised; None when not predicted (see note)
    unexpected_keys: list[str] | None
    mismatched_keys: list[Mismatch] | None
    refused: bool = False  # mismatched shapes: transformers raises unless ignore_mismatched_sizes=True
    note: str = ""

    @property
    def predicted(self) -> bool:
        return self.missing_keys is not None


@dataclass
class Quantization:
    method: str
    bits: int | None
    checkpoint_bytes: int | None  # the packed tensors' real size
    unpacked_parameters: int | None  # parameters of the unquantized model
    load: str | None = None  # on this machine: "quantized", "dequantized" or "fails" (docs/quantization.md)
    loaded_dtype: str | None = None  # torch dtype of the loaded floating weights
    loaded_memory_bytes: int | None = None  # the loaded model's weights; None when not known
    missing_packages: list[str] = field(default_factory=list)  # pip requirements the quantizer found missing
    reason: str = ""  # why the load fails or dequantizes, in transformers' words where it has them
    quantizer: str | None = None  # the HfQuantizer class the installed transformers picks
    unquantized_modules: list[str] = field(default_factory=list)  # modules_to_not_convert, ignore, ...
    bits_per_weight: float | None = None  # stored bits (scales included) per quantized weight
    device: str | None = None  # --device: the machine asked about, with the packages installed here


@dataclass
class InspectReport:
    model: str
    source: str  # "safetensors": from the headers; "meta": from the model built on the meta device
    checkpoint_format: str  # "safetensors" | "pickle" | "none"
    summary: ConfigSummary
    total_parameters: int  # what model.num_parameters() counts: buffers are listed but not counted
    embedding_parameters: int | None
    non_embedding_parameters: int | None
    checkpoint_bytes: int | None
    checkpoint_files: list[str]
    checkpoint_dtype: str  # the dtype holding most bytes of the weights
    dtypes: dict[str, int]  # dtype -> elements, over every listed tensor
    memory_bytes: dict[str, int]  # weights at float32, bfloat16, float16, int8, int4 and as checkpointed
    kv_cache: KvCache | None
    parameters: list[TensorSpec]
    groups: list[ParamGroup]
    head: HeadCheck | None  # None for a repository without transformers heads (a pipeline, a UNet)
    quantization: Quantization | None = None
    notes: list[str] = field(default_factory=list)
    from_cache: bool = False
    tree: ModuleNode | None = None  # filled on request (`amx inspect --tree`)
    adapter: AdapterInfo | None = None  # a PEFT adapter: the totals above are its base model's
    modules: list[SentenceModule] | None = None  # a sentence-transformers model's module chain
    embedding_dimension: int | None = None  # ... and the dimension of the embeddings it outputs
    components: list[Component] | None = None  # a diffusers pipeline's components
    gguf: GgufReport | None = None  # a GGUF checkpoint: its header's facts (gguf_inspection.py)
    structure_digest: str | None = None  # sha256 of what `amx diff` compares (structure.py)
    checkpoint_file_bytes: dict[str, int] | None = None  # each weight file's size; None without weight files
    checkpoint_file_sha256: dict[str, str] | None = None  # the hashes the Hub lists for them (git-lfs files)
    moe: MoeSummary | None = None  # a mixture-of-experts model: its experts and active parameters
    towers: dict[str, int] | None = None  # a multimodal model: parameters of each tower (vision, language...)


ProgressCallback = Callable[[int, int], None]


@dataclass
class HeaderFacts:
    """What a checkpoint's headers say, known before torch or transformers is imported: `amx inspect` shows it
    first, while the rest of the report (which may need a meta build) is worked out."""

    checkpoint_format: str  # "safetensors" | "gguf"
    checkpoint_files: list[str]
    checkpoint_bytes: int | None
    tensors: int
    parameters: int  # elements of every stored tensor: buffers included, quantized tensors as packed
    dtypes: dict[str, int]  # dtype (a GGML type for GGUF) -> elements
    gguf: GgufReport | None = None  # a GGUF file: its header's part of the report (nothing transformers says)


HeadersCallback = Callable[[HeaderFacts], None]


@dataclass
class TensorTypeStats:
    tensors: int
    parameters: int
    bytes: int
    bits_per_weight: float


@dataclass
class GgufReport:
    """The `gguf` section of `amx inspect --json`."""

    file: str
    architecture: str
    version: int
    quantization: str | None  # general.file_type's name, else the file name's, else the dominant type
    tensor_types: dict[str, TensorTypeStats]
    transformers_loadable: bool
    model_type: str | None = None
    reason: str = ""  # why transformers cannot load it
    parts: list[str] = field(default_factory=list)
    bits_per_weight: float | None = None
    dequantized_dtype: str | None = None  # what transformers dequantizes to (no dtype= given)
    dequantized_bytes: int | None = None
    header_bytes: int = 0  # bytes before the tensor data of the first part
    bytes_read: int = 0
    config: dict[str, Any] = field(default_factory=dict)  # the config transformers would build
    gguf_package: str | None = None  # why the installed gguf package cannot load it, or None
