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
    "invisible-auto-map": (lambda d: _config(d, auto_map={"AutoModel": f"modeling_x.Evil{INVISIBLE}"}),
                           frozenset({0, 1}), ""),
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
    # Code execution: any answer is fine as long as nothing runs (the marker file must never appear).
    cases.append(Case("pickle-writes-a-file", str(_pickle_that_writes(root / "pickle")), WORKS))
    cases.append(Case("remote-code-writes-a-file", str(_remote_code_that_writes(root / "remote")),
                      frozenset({0, 1})))
    for name, (reference, codes, message) in REFERENCE_CASES.items():
        cases.append(Case(f"reference-{name}", reference, codes, message))
    return cases
