"""Generator of hostile and broken model directories, made at test time (nothing binary is committed).

Each case is a model reference plus what amx must do with it: succeed, or fail with a given exit
code and a message naming the problem. `tests/test_hostile.py` runs every case through every
command, with and without --json.
"""

from __future__ import annotations

import json
import os
import struct
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


def _with_file(directory: Path, name: str, content: str) -> Path:
    (directory / name).write_text(content)
    return directory


# Characters a terminal acts on or hides: the 8-bit CSI (U+009B) and NEL, DEL, a bidi override, a zero-width
# space, a line separator and a tag character. Printed raw, `X<this>Y` could recolour or reorder the screen.
INVISIBLE = "\x9b31m\x85\x7f\u202e\u200b\u2028\U000e0041"


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
    "c1-injection": (lambda d: _config(d, architectures=[f"X{INVISIBLE}Y"]), WORKS, ""),
    "invisible-labels": (lambda d: _config(d, id2label={"0": f"A{INVISIBLE}", "1": "B"}), WORKS, ""),
    "invisible-model-type": (lambda d: _config(d, model_type=f"bert{INVISIBLE}"), frozenset({1}), "not known"),
    # heads lists the entry (0); source must read its code and refuses the malformed class name (2).
    "invisible-auto-map": (lambda d: _config(d, auto_map={"AutoModel": f"modeling_x.Evil{INVISIBLE}"}),
                           frozenset({0, 1, 2}), ""),
    "invisible-tokenizer-class": (lambda d: _with_file(_config(d), "tokenizer_config.json", json.dumps(
        {"tokenizer_class": f"Evil{INVISIBLE}Tokenizer"})), WORKS, ""),
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


# name -> (files next to a valid config.json, message fragment for the commands that read weights; none: works)
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
    "invisible-tensor-name": ({"model.safetensors": _header({f"a{INVISIBLE}": _tensor()}) + b"\0" * 8}, ""),
    "invisible-shard-name": ({"model.safetensors.index.json": json.dumps(
        {"weight_map": {"a": f"x{INVISIBLE}.safetensors"}}).encode()}, "which is not in the checkpoint"),
    "index-dotdot": ({"model.safetensors.index.json": json.dumps(
        {"weight_map": {"a": "../outside.safetensors"}}).encode()}, "points outside the repository"),
}


def _irregular_weights(name: str, make: Callable[[Path], None]) -> Callable[[Path], Path]:
    """A valid config.json beside a weight file `name` that exists but is not a regular file."""
    def build(directory: Path) -> Path:
        _config(directory)
        make(directory / name)
        return directory

    return build


def _index_with_irregular_shard(directory: Path) -> Path:
    _config(directory)
    shard = "model-00001-of-00001.safetensors"
    (directory / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": shard}}))
    os.mkfifo(directory / shard)
    return directory


# name -> builder of a model whose weight file, by a name transformers loads, is not a regular file
IRREGULAR_WEIGHT_CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "symlink-to-dev-zero": (_irregular_weights("model.safetensors", lambda p: os.symlink("/dev/zero", p)),
                            "model.safetensors: a link to a character device, not a regular file"),
    "fifo": (_irregular_weights("model.safetensors", os.mkfifo), "model.safetensors: a FIFO"),
    "directory": (_irregular_weights("model.safetensors", Path.mkdir), "model.safetensors: a directory"),
    "dangling-link": (_irregular_weights("model.safetensors", lambda p: os.symlink("/nonexistent/x", p)),
                      "model.safetensors: a broken link"),
    "index-fifo": (_irregular_weights("model.safetensors.index.json", os.mkfifo),
                   "model.safetensors.index.json: a FIFO"),
    "shard-fifo": (_index_with_irregular_shard, "model-00001-of-00001.safetensors: a FIFO"),
    "pickle-directory": (_irregular_weights("pytorch_model.bin", Path.mkdir), "pytorch_model.bin: a directory"),
}

# name -> (config.json, message fragment): sizes beyond any real model, beside a safetensors file so that every
# command that reads weights builds the model (and must refuse to).
SIZE_CASES: dict[str, tuple[dict, str]] = {
    "layers-10**9": ({**BERT, "num_hidden_layers": 10**9}, "num_hidden_layers=1,000,000,000 is more layers"),
    "hidden-size-2**40": ({**BERT, "hidden_size": 2**40}, "more than 10,000,000,000,000 parameters"),
    "real-allocation": ({"model_type": "hubert", "architectures": ["HubertModel"], "hidden_size": 10**9},
                        "MiB of real memory"),
}

# quantization_config is file content too: its numbers are bounded, its strings shown escaped.
QUANTIZATION_CASES: dict[str, tuple[object, frozenset[int], str]] = {
    "not-an-object": ("int4", FAILS, "quantization_config must be an object"),
    "bits-huge": ({"quant_method": "gptq", "bits": 10**30}, FAILS, "bits must be an integer"),
    "bits-string": ({"quant_method": "gptq", "bits": "4"}, FAILS, "bits must be an integer"),
    "block-size-zero": ({"quant_method": "fp8", "weight_block_size": [0, 128]}, FAILS, "weight_block_size"),
    "skip-list-of-numbers": ({"quant_method": "fp8", "modules_to_not_convert": [1]}, FAILS, "modules_to_not_convert"),
    "method-invisible": ({"quant_method": f"X{INVISIBLE}Y"}, frozenset({0, 1}), ""),
    "skip-invisible": ({"quant_method": "fp8", "modules_to_not_convert": [f"X{INVISIBLE}Y"]}, frozenset({0, 1}), ""),
}


def gguf_string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def gguf_kv(key: str | bytes, type_id: int, payload: bytes) -> bytes:
    return gguf_string(key) + struct.pack("<I", type_id) + payload


def gguf_tensor(name: str, dims: list[int], type_id: int = 0, offset: int = 0) -> bytes:
    return gguf_string(name) + struct.pack(f"<I{len(dims)}QIQ", len(dims), *dims, type_id, offset)


ARCHITECTURE = gguf_kv("general.architecture", 8, gguf_string("llama"))


def gguf_bytes(kvs: list[bytes] | None = None, tensors: list[bytes] | None = None, data: bytes = b"\0" * 32,
               version: int = 3, tensor_count: int | None = None, kv_count: int | None = None,
               alignment: int = 32) -> bytes:
    """A GGUF file byte by byte, so that any field can be wrong (the gguf package refuses to write most)."""
    kvs = [ARCHITECTURE] if kvs is None else kvs
    tensors = [gguf_tensor("a", [8])] if tensors is None else tensors
    header = b"GGUF" + struct.pack("<IQQ", version, len(tensors) if tensor_count is None else tensor_count,
                                   len(kvs) if kv_count is None else kv_count) + b"".join(kvs) + b"".join(tensors)
    return header + b"\0" * (-len(header) % alignment) + data


def _nested_arrays(depth: int) -> bytes:
    """An array of an array of ... `depth` levels deep, the innermost holding one uint8."""
    return struct.pack("<I", 9) + struct.pack("<IQ", 9, 1) * (depth - 1) + struct.pack("<IQB", 0, 1, 7)


# name -> (the .gguf file of a folder without config.json, message fragment); every command reads it.
GGUF_CASES: dict[str, tuple[bytes, str]] = {
    "empty": (b"", "not a GGUF file"),
    "bad-magic": (b"GGML" + gguf_bytes()[4:], "not a GGUF file"),
    "version-1": (gguf_bytes(version=1), "GGUF version 1"),
    "big-endian": (b"GGUF" + struct.pack(">I", 3) + gguf_bytes()[8:], "big-endian"),
    "truncated-metadata": (gguf_bytes()[:45], "ends inside its GGUF header"),
    "truncated-tensor-infos": (gguf_bytes()[:24 + len(ARCHITECTURE) + len(gguf_tensor("a", [8])) - 6],
                               "ends inside its GGUF header"),
    "tensor-data-past-end": (gguf_bytes(data=b"\0" * 8), "past the end of the file"),
    "huge-tensor-count": (gguf_bytes(tensor_count=2**63), "the tensor count"),
    "huge-metadata-count": (gguf_bytes(kv_count=2**60), "the metadata count"),
    "huge-key-length": (gguf_bytes([struct.pack("<Q", 2**62) + b"x" * 64]), "the length of metadata key"),
    "huge-string-length": (gguf_bytes([gguf_kv("general.name", 8, struct.pack("<Q", 2**62) + b"x")]),
                           "the length of metadata 'general.name'"),
    "huge-array-length": (gguf_bytes([gguf_kv("x.bytes", 9, struct.pack("<IQ", 0, 2**61))]), "the length of"),
    "huge-string-array": (gguf_bytes([gguf_kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 2**40))]),
                          "the length of"),
    "deeply-nested-arrays": (gguf_bytes([gguf_kv("x.nested", 9, _nested_arrays(100_000)[4:])]),
                             "nests arrays more than"),
    "unknown-value-type": (gguf_bytes([gguf_kv("x.what", 13, b"\0" * 8)]), "unknown value type 13"),
    "bad-bool": (gguf_bytes([ARCHITECTURE, gguf_kv("x.flag", 7, b"\x02")]), "bool"),
    "duplicate-key": (gguf_bytes([ARCHITECTURE, ARCHITECTURE]), "appears twice"),
    "key-not-utf8": (gguf_bytes([gguf_kv(b"\xff\xfe", 4, b"\0" * 4)]), "not valid UTF-8"),
    "alignment-zero": (gguf_bytes([ARCHITECTURE, gguf_kv("general.alignment", 4, struct.pack("<I", 0))]),
                       "power of two"),
    "alignment-not-uint32": (gguf_bytes([ARCHITECTURE, gguf_kv("general.alignment", 8, gguf_string("32"))]),
                             "power of two"),
    "unknown-ggml-type": (gguf_bytes(tensors=[gguf_tensor("a", [8], 99)]), "unknown ggml type 99"),
    "too-many-dimensions": (gguf_bytes(tensors=[gguf_tensor("a", [1, 1, 1, 1, 8])]), "5 dimensions"),
    "astronomical-dimensions": (gguf_bytes(tensors=[gguf_tensor("a", [2**40, 2**40])]), "2**63"),
    "partial-block": (gguf_bytes(tensors=[gguf_tensor("a", [33], 8)]), "block size"),
    "unaligned-offset": (gguf_bytes(tensors=[gguf_tensor("a", [4]), gguf_tensor("b", [4], offset=20)]),
                         "not a multiple of the alignment"),
    "overlapping-tensors": (gguf_bytes(tensors=[gguf_tensor("a", [8]), gguf_tensor("b", [8])]), "overlaps"),
    "duplicate-tensor": (gguf_bytes(tensors=[gguf_tensor("a", [4]), gguf_tensor("a", [4], offset=32)], data=b"\0" * 64),
                         "appears twice"),
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


def _linked_to_device(directory: Path, name: str) -> Path:
    """`name` is a symlink to /dev/zero: reading it would never end."""
    _files(directory, {"config.json": BERT} if name == "modules.json" else {})
    directory.mkdir(parents=True, exist_ok=True)
    os.symlink("/dev/zero", directory / name)
    return directory


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
    "modules-symlink-to-device": (lambda d: _linked_to_device(d, "modules.json"), BAD, "not a regular file"),
    "adapter-config-symlink-to-device": (lambda d: _linked_to_device(d, "adapter_config.json"), BAD,
                                         "not a regular file"),
    "model-index-symlink-to-device": (lambda d: _linked_to_device(d, "model_index.json"), BAD,
                                      "not a regular file"),
    "model-index-wrong-type": (lambda d: _pipeline(d, unet=["diffusers", 5]), BAD, "must be [library, class]"),
}


def build_cases(root: Path) -> list[Case]:
    cases = []
    for name, (build, codes, message) in CONFIG_CASES.items():
        cases.append(Case(f"config-{name}", str(build(root / name)), codes, message))
    for name, (files, message) in WEIGHT_CASES.items():
        cases.append(Case(f"weights-{name}", str(_weights(root / f"weights-{name}", files)), WORKS, "",
                          BAD if message else WORKS, message))
    for name, (build, message) in IRREGULAR_WEIGHT_CASES.items():
        cases.append(Case(f"weights-{name}", str(build(root / f"irregular-{name}")), WORKS, "", BAD, message))
    for name, (config, message) in SIZE_CASES.items():
        directory = _write(root / f"size-{name}", json.dumps(config))
        (directory / "model.safetensors").write_bytes(_header({"a": _tensor()}) + b"\0" * 8)
        cases.append(Case(f"size-{name}", str(directory), WORKS, "", BAD, message))
    for name, (quantization, codes, message) in QUANTIZATION_CASES.items():
        directory = _write(root / f"quantization-{name}", json.dumps({**BERT, "quantization_config": quantization}))
        (directory / "model.safetensors").write_bytes(_header({"a": _tensor()}) + b"\0" * 8)
        cases.append(Case(f"quantization-{name}", str(directory), WORKS, "", codes, message))
    # Code execution: any answer is fine as long as nothing runs (the marker file must never appear).
    cases.append(Case("pickle-writes-a-file", str(_pickle_that_writes(root / "pickle")), WORKS))
    cases.append(Case("remote-code-writes-a-file", str(_remote_code_that_writes(root / "remote")),
                      frozenset({0, 1})))
    for name, (build, codes, message) in SHAPE_CASES.items():
        cases.append(Case(f"shape-{name}", str(build(root / f"shape-{name}")), codes, message))
    for name, (content, message) in GGUF_CASES.items():
        folder = root / f"gguf-{name}"
        folder.mkdir(parents=True)
        (folder / "model.gguf").write_bytes(content)
        cases.append(Case(f"gguf-{name}", str(folder), BAD, message))
    several = root / "gguf-several"
    several.mkdir()
    for quant in ("Q4_K_M", "Q8_0"):
        (several / f"model-{quant}.gguf").write_bytes(gguf_bytes())
    cases.append(Case("gguf-several", str(several), BAD, "holds 2 GGUF checkpoints"))
    injected = root / "gguf-ansi-architecture"
    injected.mkdir()
    (injected / "model.gguf").write_bytes(gguf_bytes([gguf_kv("general.architecture", 8,
                                                              gguf_string("\x1b[2J[bold red]evil\x07"))]))
    cases.append(Case("gguf-ansi-architecture", str(injected), frozenset({0, 1})))
    for name, (reference, codes, message) in REFERENCE_CASES.items():
        cases.append(Case(f"reference-{name}", reference, codes, message))
    return cases
