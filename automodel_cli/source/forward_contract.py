"""A head's input/output contract: what `forward` takes, what it returns, and the main output's shape.

The inputs and the output class come from the code (the signature, the return annotation, the
docstring `auto_docstring` writes); the shape of the main output comes from `OUTPUT_SHAPES`, a table
keyed by Auto class, with sizes such as `num_labels` or `vocab_size` filled in from config.json.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

BQ = ("batch", "seq_len")
# Auto class -> the fields that carry its answer, each with its dimensions. A dimension is a name bound
# from the config (see `_CONFIG_NAMES`), a name left symbolic (batch, seq_len, ...), a number, or
# `name+number`.
OUTPUT_SHAPES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "AutoModel": (("last_hidden_state", (*BQ, "hidden_size")),),
    "AutoModelForTextEncoding": (("last_hidden_state", (*BQ, "hidden_size")),),
    "AutoModelForCausalLM": (("logits", (*BQ, "vocab_size")),),
    "AutoModelForMaskedLM": (("logits", (*BQ, "vocab_size")),),
    "AutoModelForImageTextToText": (("logits", (*BQ, "vocab_size")),),
    "AutoModelForMultimodalLM": (("logits", (*BQ, "vocab_size")),),
    "AutoModelForSeq2SeqLM": (("logits", ("batch", "target_len", "vocab_size")),),
    "AutoModelForSpeechSeq2Seq": (("logits", ("batch", "target_len", "vocab_size")),),
    "AutoModelForSequenceClassification": (("logits", ("batch", "num_labels")),),
    "AutoModelForTokenClassification": (("logits", (*BQ, "num_labels")),),
    "AutoModelForQuestionAnswering": (("start_logits", BQ), ("end_logits", BQ)),
    "AutoModelForMultipleChoice": (("logits", ("batch", "num_choices")),),
    "AutoModelForNextSentencePrediction": (("logits", ("batch", "2")),),
    "AutoModelForImageClassification": (("logits", ("batch", "num_labels")),),
    "AutoModelForVideoClassification": (("logits", ("batch", "num_labels")),),
    "AutoModelForAudioClassification": (("logits", ("batch", "num_labels")),),
    "AutoModelForAudioFrameClassification": (("logits", ("batch", "frames", "num_labels")),),
    "AutoModelForAudioXVector": (("logits", ("batch", "num_labels")), ("embeddings", ("batch", "xvector_output_dim"))),
    "AutoModelForCTC": (("logits", ("batch", "frames", "vocab_size")),),
    "AutoModelForSemanticSegmentation": (("logits", ("batch", "num_labels", "out_height", "out_width")),),
    "AutoModelForObjectDetection": (
        ("logits", ("batch", "num_queries", "num_labels+1")),
        ("pred_boxes", ("batch", "num_queries", "4")),
    ),
    "AutoModelForDepthEstimation": (("predicted_depth", ("batch", "height", "width")),),
    "AutoModelForZeroShotImageClassification": (("logits_per_image", ("images", "texts")),),
    "AutoModelForMaskedImageModeling": (("reconstruction", ("batch", "num_channels", "height", "width")),),
}

# Dimension names read from config.json, with the spellings model families use for them.
_CONFIG_NAMES: dict[str, tuple[str, ...]] = {
    "hidden_size": ("hidden_size", "d_model", "n_embd", "dim", "embed_dim", "hidden_dim"),
    "vocab_size": ("vocab_size", "padded_vocab_size"),
    "num_queries": ("num_queries",),
    "num_channels": ("num_channels",),
    "xvector_output_dim": ("xvector_output_dim",),
}
# Composite configs keep the language model's sizes in a sub-config.
_SUB_CONFIGS = ("text_config", "language_config", "llm_config", "decoder")
_DEFAULT_NUM_LABELS = 2  # PretrainedConfig's default when config.json has no id2label


@dataclass
class InputParam:
    name: str
    required: bool
    default: str | None  # repr of the default; None when required or variadic
    annotation: str | None
    kind: str  # "positional", "keyword", "*args" or "**kwargs"
    shape: str | None = None  # as documented in the forward docstring


@dataclass
class OutputField:
    name: str
    annotation: str | None
    shape: str | None = None  # as documented in the output class docstring


@dataclass
class OutputShape:
    field: str
    shape: list[str]  # dimension names (or numbers) in order
    sizes: dict[str, int]  # the dimensions the config fixes


@dataclass
class Contract:
    method: str  # the method whose contract this is: forward
    inputs: list[InputParam]
    returns: str | None  # the return annotation as written
    output_class: str | None  # the ModelOutput subclass it names, when there is one
    output_module: str | None
    output_fields: list[OutputField]
    main_output: list[OutputShape]
    notes: list[str] = field(default_factory=list)


_DOC_ENTRY = re.compile(r"^\s*\**(\w+)\**\s+\(`[^`]*`(?: of shape `([^`]+)`)?", re.MULTILINE)


def documented_shapes(docstring: str | None) -> dict[str, str]:
    """`name (`type` of shape `(a, b)`)` entries of a transformers docstring -> {name: "(a, b)"}."""
    shapes: dict[str, str] = {}
    for name, shape in _DOC_ENTRY.findall(docstring or ""):
        if shape and name not in shapes:
            shapes[name] = shape
    return shapes


def _config_number(raw: dict[str, Any], names: tuple[str, ...]) -> int | None:
    for mapping in (raw, *(raw.get(key) for key in _SUB_CONFIGS)):
        if not isinstance(mapping, dict):
            continue
        for name in names:
            value = mapping.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


def num_labels(raw: dict[str, Any]) -> tuple[int, bool]:
    """(number of labels, whether config.json says so) as PretrainedConfig computes it."""
    id2label = raw.get("id2label")
    if isinstance(id2label, dict) and id2label:
        return len(id2label), True
    explicit = raw.get("num_labels")
    if isinstance(explicit, int) and not isinstance(explicit, bool) and explicit > 0:
        return explicit, True
    return _DEFAULT_NUM_LABELS, False


def reads_config_sizes(auto_class: str) -> bool:
    """Whether this head's main output is sized by config values found through the config's aliases."""
    return any(dim.partition("+")[0] in _CONFIG_NAMES for _, dims in OUTPUT_SHAPES.get(auto_class, ()) for dim in dims)


def main_output(
    auto_class: str, raw: dict[str, Any], attribute_map: dict[str, str] | None = None,
    fields: list[OutputField] | None = None,
) -> tuple[list[OutputShape], list[str]]:
    """The shapes of the fields that carry this head's answer, sized from config.json, and notes.

    `attribute_map` is the config class's own alias table (gpt2: hidden_size -> n_embd); `fields`, when
    known, drops rules for fields the output class does not have.
    """
    notes: list[str] = []
    shapes = []
    known_fields = {f.name for f in fields} if fields else None
    for field_name, dims in OUTPUT_SHAPES.get(auto_class, ()):
        if known_fields is not None and field_name not in known_fields:
            continue
        sizes: dict[str, int] = {}
        for dim in dims:
            name = dim.partition("+")[0]
            if name in sizes:
                continue
            if name == "num_labels":
                sizes[name], stated = num_labels(raw)
                if not stated:
                    notes.append(f"config.json has no id2label: num_labels is transformers' default {sizes[name]}")
            elif name in _CONFIG_NAMES:
                mapped = (attribute_map or {}).get(name)
                value = _config_number(raw, ((mapped,) if mapped else ()) + _CONFIG_NAMES[name])
                if value is not None:
                    sizes[name] = value
        shapes.append(OutputShape(field_name, list(dims), sizes))
    return shapes, list(dict.fromkeys(notes))


def inputs_from_ast(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[InputParam]:
    """forward's inputs from its parsed definition, as `inspect.signature` gives them (types and defaults as
    written): what `amx source` shows without importing the class."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    entries = list(zip(positional, defaults, ["positional"] * len(positional)))[1:]  # drop self
    entries += list(zip(args.kwonlyargs, args.kw_defaults, ["keyword"] * len(args.kwonlyargs)))
    inputs = [
        InputParam(arg.arg, default is None, ast.unparse(default) if default is not None else None,
                   ast.unparse(arg.annotation) if arg.annotation else None, kind)
        for arg, default, kind in entries
    ]
    for arg, kind in ((args.vararg, "*args"), (args.kwarg, "**kwargs")):
        if arg is not None:
            inputs.append(InputParam(arg.arg, False, None, ast.unparse(arg.annotation) if arg.annotation else None, kind))
    return inputs
