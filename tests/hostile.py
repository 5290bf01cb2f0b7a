"""Generator of hostile and broken model directories, made at test time (nothing binary is committed).

Each case is a model reference plus what amx must do with it: succeed, or fail with a given exit
code and a message naming the problem. `tests/test_hostile.py` runs every case through every
command, with and without --json.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BERT = {"model_type": "bert", "architectures": ["BertForMaskedLM"], "hidden_size": 32, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 37, "vocab_size": 99}


@dataclass(frozen=True)
class Case:
    name: str
    reference: str
    exit_codes: frozenset[int]  # accepted exit codes; {0} means it must work
    message: str = ""  # a fragment the error line must contain
    # For commands that read the weights (inspect, doctor): what they must do instead, if different.
    weights_exit_codes: frozenset[int] | None = None
    weights_message: str = ""


def _write(directory: Path, content: bytes | str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return directory


def _config(directory: Path, **overrides) -> Path:
    return _write(directory, json.dumps({**BERT, **overrides}))


BAD = frozenset({2})
FAILS = frozenset({1, 2})
WORKS = frozenset({0})

# name -> (builder, accepted exit codes, message fragment)
CONFIG_CASES: dict[str, tuple[Callable[[Path], Path], frozenset[int], str]] = {
    "missing": (lambda d: (d.mkdir(parents=True), d)[1], FAILS, "config.json"),
    "empty": (lambda d: _write(d, b""), BAD, "empty"),
    "not-json": (lambda d: _write(d, b"{model_type: bert"), BAD, "not valid JSON"),
    "not-an-object": (lambda d: _write(d, b"[1, 2, 3]"), BAD, "JSON object"),
    "not-utf8": (lambda d: _write(d, b'{"model_type": "\xff\xfe"}'), BAD, "UTF-8"),
    "bom": (lambda d: _write(d, b"\xef\xbb\xbf" + json.dumps(BERT).encode()), WORKS, ""),
    "nan-infinity": (lambda d: _write(d, json.dumps(BERT)[:-1] + ', "layer_norm_eps": NaN, "x": Infinity}'),
                     WORKS, ""),
    "deeply-nested": (lambda d: _write(d, '{"model_type": "bert", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
                      BAD, "nested too deeply"),
    "very-large": (lambda d: _write(d, json.dumps({**BERT, "padding": "x" * 40_000_000})), WORKS, ""),
    "model-type-number": (lambda d: _config(d, model_type=7), BAD, "model_type must be a string"),
    "model-type-null": (lambda d: _config(d, model_type=None), BAD, "no model_type"),
    "model-type-list": (lambda d: _config(d, model_type=["bert"]), BAD, "model_type must be a string"),
    "architectures-string": (lambda d: _config(d, architectures="BertModel"), BAD, "architectures must be a list"),
    "architectures-numbers": (lambda d: _config(d, architectures=[1, 2]), BAD, "architectures must be a list"),
    "architectures-null": (lambda d: _config(d, architectures=None), WORKS, ""),
    "unknown-architecture": (lambda d: _config(d, architectures=["NoSuchModelForAnything"]), WORKS, ""),
    "unknown-model-type": (lambda d: _config(d, model_type="no-such-type"), frozenset({1}), "not known"),
    "auto-map-not-object": (lambda d: _config(d, auto_map=["x"]), BAD, "auto_map must be an object"),
    "huge-id2label": (lambda d: _config(d, id2label={str(i): f"L{i}" for i in range(100_000)}), WORKS, ""),
    "markup-injection": (lambda d: _config(d, architectures=["[bold red]X[/bold red][link=http://e]Y[/link]"]),
                         WORKS, ""),
    "ansi-injection": (lambda d: _config(d, architectures=["\x1b[2J\x1b[31mRED\x07"]), WORKS, ""),
}


def _symlink_case(target: str) -> Callable[[Path], Path]:
    def build(directory: Path) -> Path:
        directory.mkdir(parents=True)
        os.symlink(target if target != "loop" else directory / "config.json", directory / "config.json")
        return directory

    return build


CONFIG_CASES["symlink-to-device"] = (_symlink_case("/dev/zero"), BAD, "not a regular file")
CONFIG_CASES["symlink-loop"] = (_symlink_case("loop"), BAD, "config.json")

REFERENCE_CASES: dict[str, tuple[str, frozenset[int], str]] = {
    "dotdot": ("../../etc", FAILS, ""),
    "org-dotdot": ("org/../../x", BAD, "invalid model reference"),
    "newline": ("org/na\nme", BAD, "control characters"),
    "nul": ("org/na\x00me", BAD, "control characters"),
    "very-long": ("a" * 10_000, BAD, "characters long"),
    "empty": ("", BAD, "empty"),
}


def _header(entries: dict) -> bytes:
    raw = json.dumps(entries).encode()
    return len(raw).to_bytes(8, "little") + raw


def _weights(directory: Path, files: dict[str, bytes]) -> Path:
    _config(directory)
    for name, content in files.items():
        (directory / name).write_bytes(content)
    return directory


def _tensor(dtype="F32", shape=(2,), offsets=(0, 8)) -> dict:
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


# name -> (files next to a valid config.json, message fragment for the commands that read weights)
WEIGHT_CASES: dict[str, tuple[dict[str, bytes], str]] = {
    "length-beyond-file": ({"model.safetensors": (1000).to_bytes(8, "little") + b"{}"}, "but the file has only"),
    "length-near-2**64": ({"model.safetensors": (2**64 - 9).to_bytes(8, "little") + b"{}"}, "header length field"),
    "header-not-json": ({"model.safetensors": (9).to_bytes(8, "little") + b"{not json"}, "not valid JSON"),
    "offsets-overlap": ({"model.safetensors": _header({"a": _tensor(), "b": _tensor(offsets=(4, 12))}) + b"\0" * 12},
                        "overlaps"),
    "offsets-past-end": ({"model.safetensors": _header({"a": _tensor()}) + b"\0" * 4}, "past the end"),
    "offsets-negative": ({"model.safetensors": _header({"a": _tensor(offsets=(-8, 0))}) + b"\0" * 8},
                         "data_offsets must be two non-negative integers"),
    "unknown-dtype": ({"model.safetensors": _header({"a": _tensor(dtype="F128")}) + b"\0" * 8}, "unknown dtype"),
    "negative-shape": ({"model.safetensors": _header({"a": _tensor(shape=(-2,))}) + b"\0" * 8},
                       "shape must be a list of non-negative integers"),
    "astronomical-shape": ({"model.safetensors": _header({"a": _tensor(shape=(2**40, 2**40))}) + b"\0" * 8},
                           "more than 2**64 elements"),
    "index-missing-shard": ({"model.safetensors.index.json": json.dumps(
        {"weight_map": {"a": "model-00001-of-00002.safetensors"}}).encode()}, "model-00001-of-00002.safetensors"),
    "index-absolute-path": ({"model.safetensors.index.json": json.dumps(
        {"weight_map": {"a": "/etc/passwd"}}).encode()}, "points outside the repository"),
    "index-dotdot": ({"model.safetensors.index.json": json.dumps(
        {"weight_map": {"a": "../outside.safetensors"}}).encode()}, "points outside the repository"),
}

MARKER = "CODE-WAS-EXECUTED"


class _WritesAFileWhenUnpickled:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _pickle_that_writes(directory: Path) -> Path:
    import pickle

    _config(directory)
    (directory / "pytorch_model.bin").write_bytes(pickle.dumps(_WritesAFileWhenUnpickled(directory / MARKER)))
    return directory


def _remote_code_that_writes(directory: Path) -> Path:
    code = f"open({str(directory / MARKER)!r}, 'w').close()\nclass EvilModel:\n    def forward(self, x):\n        return x\n"
    _write(directory, json.dumps({"model_type": "evil-remote", "architectures": ["EvilModel"],
                                  "auto_map": {"AutoConfig": "modeling_evil.EvilConfig",
                                               "AutoModel": "modeling_evil.EvilModel"}}))
    (directory / "modeling_evil.py").write_text(code)
    return directory


def _files(directory: Path, files: dict[str, object]) -> Path:
    """Write JSON (or bytes) files into `directory`, creating subfolders."""
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return directory


def _adapter(directory: Path, base: object, **extra) -> Path:
    return _files(directory, {"adapter_config.json": {"peft_type": "LORA", "task_type": "CAUSAL_LM",
                                                      "base_model_name_or_path": base, **extra}})


def _adapter_chain(directory: Path) -> Path:
    _adapter(directory / "second", str(directory / "first"))
    return _adapter(directory / "first", str(directory / "second"))


def _sentence_model(directory: Path, modules: object, **files: object) -> Path:
    return _files(directory, {"config.json": BERT, "modules.json": modules, **files})


def _pipeline(directory: Path, **components: object) -> Path:
    return _files(directory, {"model_index.json": {"_class_name": "StableDiffusionPipeline", **components}})


TRANSFORMER = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
_MANY = 5_000
# Repositories that are not one transformers folder (adapters, sentence-transformers, pipelines):
# name -> (builder, accepted exit codes, message fragment)
SHAPE_CASES: dict[str, tuple[Callable[[Path], Path], frozenset[int], str]] = {
    "adapter-base-is-itself": (lambda d: _adapter(d, str(d)), BAD, "names the adapter itself"),
    "adapter-chain-loop": (_adapter_chain, frozenset({1}), "is itself an adapter"),
    "adapter-base-dotdot": (lambda d: _adapter(d, "../" * 40 + "etc"), frozenset({1}), "base model"),
    "adapter-base-absolute": (lambda d: _adapter(d, "/dev/null"), frozenset({1}), "base model"),
    "adapter-base-not-a-string": (lambda d: _adapter(d, 7), BAD, "base_model_name_or_path must name"),
    "adapter-targets-wrong-type": (lambda d: _adapter(d, "gpt2", target_modules={"q": 1}), BAD,
                                   "target_modules must be"),
    "adapter-config-not-json": (lambda d: _files(d, {"adapter_config.json": b"{base"}), BAD, "not valid JSON"),
    "modules-path-dotdot": (lambda d: _sentence_model(d, [TRANSFORMER, {"path": "../../etc", "type": "x.Pooling"}]),
                            BAD, "points outside the repository"),
    "modules-path-absolute": (lambda d: _sentence_model(d, [TRANSFORMER, {"path": "/etc", "type": "x.Dense"}]),
                              BAD, "points outside the repository"),
    "modules-thousands": (lambda d: _sentence_model(d, [TRANSFORMER] * _MANY), BAD, "more than 1,000 modules"),
    "modules-not-a-list": (lambda d: _sentence_model(d, {"0": TRANSFORMER}), BAD, "must be a list"),
    "modules-type-not-a-string": (lambda d: _sentence_model(d, [{"path": "", "type": 5}]), BAD, "type must be"),
    "modules-dense-config-wrong-types": (lambda d: _sentence_model(
        d, [TRANSFORMER, {"path": "1_Dense", "type": "x.Dense"}],
        **{"1_Dense/config.json": {"in_features": "a", "out_features": [1], "activation_function": 3}}), WORKS, ""),
    "model-index-component-escapes": (lambda d: _pipeline(d, **{"../unet": ["diffusers", "UNet2DConditionModel"]}),
                                      BAD, "points outside the repository"),
    "model-index-component-dotdot": (lambda d: _pipeline(d, **{"..": ["diffusers", "UNet2DConditionModel"]}),
                                     BAD, "points outside the repository"),
    "model-index-thousands": (lambda d: _pipeline(d, **{f"c{i}": ["diffusers", "X"] for i in range(_MANY)}),
                              BAD, "more than 1,000 components"),
    "model-index-wrong-type": (lambda d: _pipeline(d, unet=["diffusers", 5]), BAD, "must be [library, class]"),
}


def build_cases(root: Path) -> list[Case]:
    cases = []
    for name, (build, codes, message) in CONFIG_CASES.items():
        cases.append(Case(f"config-{name}", str(build(root / name)), codes, message))
    for name, (files, message) in WEIGHT_CASES.items():
        cases.append(Case(f"weights-{name}", str(_weights(root / f"weights-{name}", files)), WORKS, "",
                          BAD, message))
    # Code execution: any answer is fine as long as nothing runs (the marker file must never appear).
    cases.append(Case("pickle-writes-a-file", str(_pickle_that_writes(root / "pickle")), WORKS))
    cases.append(Case("remote-code-writes-a-file", str(_remote_code_that_writes(root / "remote")),
                      frozenset({0, 1})))
    for name, (build, codes, message) in SHAPE_CASES.items():
        cases.append(Case(f"shape-{name}", str(build(root / f"shape-{name}")), codes, message))
    for name, (reference, codes, message) in REFERENCE_CASES.items():
        cases.append(Case(f"reference-{name}", reference, codes, message))
    return cases
