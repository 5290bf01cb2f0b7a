"""What the bench scripts share, so that none imports another (bench/ is not a package: each script is
run as `python bench/X.py`, which puts bench/ on the path, and imports `from support import ...`).

Targets: each figure is printed beside its target, and a script that missed any exits 1 naming them, so
a slower amx cannot pass for a fast one. Each side of a comparison runs in a fresh process, as a user
runs it, timed in wall and CPU seconds (on a loaded shared machine the wall time measures the neighbours).

The Hub the benchmarks read from is a minimal Range-capable server here, not the tests' olah-based local
Hub (tests/support/localhub.py, which serves git repositories): the benchmarks serve sparse files of
hundreds of GB (the 405B checkpoint is headers and holes), which cannot go into git.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import math
import operator
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_COMPARE = {"<": operator.lt, "<=": operator.le}
_missed: list[str] = []


def target(what: str, value: float, op: str, limit: float, unit: str = "") -> str:
    """`(target < 0.5 s)`, or `(MISSED target < 0.5 s)` and remembered when `value` is beyond it."""
    unit = unit if unit in ("", "x") else f" {unit}"
    shown = f"target {op} {limit:g}{unit}"
    if _COMPARE[op](value, limit):
        return f"({shown})"
    _missed.append(f"{what} {value:.3g}{unit} ({shown})")
    return f"(MISSED {shown})"


def finish() -> None:
    """Exit 1 when a target was missed: the last line says which."""
    if _missed:
        sys.exit(f"missed {len(_missed)} target(s): {'; '.join(_missed)}")


def parser(doc: str, repeat: str | None = None) -> argparse.ArgumentParser:
    """The script's arguments, described by its docstring's first line; `repeat` says what --repeat runs."""
    arguments = argparse.ArgumentParser(description=doc.splitlines()[0])
    if repeat:
        arguments.add_argument("--repeat", type=int, default=3, help=f"{repeat} (median is kept)")
    return arguments


def environment(**variables: str) -> dict[str, str]:
    """This environment with `variables`, and PYTHONPATH=ROOT so that the processes run this checkout's amx."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **variables}


@dataclasses.dataclass(frozen=True)
class Run:
    """A fresh process's output and times."""

    stdout: str
    stderr: str
    returncode: int
    seconds: float  # wall
    cpu: float  # user + system
    first_output: float | None = None  # wall seconds to the first byte on stdout (`run_to_first_output`)


def run(cmd: list[str], env: dict[str, str], *, check: bool = True, cwd: Path | None = None) -> Run:
    """One fresh process, timed; check=False for commands whose non-zero exit is their answer."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, check=check, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(done.stdout, done.stderr, done.returncode, seconds, cpu)


def run_to_first_output(cmd: list[str], env: dict[str, str]) -> Run:
    """One fresh process, timed as `run` does, and when its first byte came out on stdout (a user sees it then)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: stderr cannot fill up while stdout is awaited
        process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=errors)
        first = process.stdout.read(1)
        first_output = time.perf_counter() - start
        rest = process.stdout.read()
        process.wait()
        seconds = time.perf_counter() - start
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, cmd, stderr=stderr)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run((first + rest).decode(), stderr, process.returncode, seconds, cpu, first_output)


def timed(function):
    """What `function()` returns, and its wall seconds, for what is measured in this process."""
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def median_run(cmd: list[str], env: dict[str, str], repeat: int, **options) -> Run:
    """`repeat` runs of one command: the last, with the median wall and the median CPU seconds of them all."""
    runs = [run(cmd, env, **options) for _ in range(repeat)]
    return dataclasses.replace(runs[-1], seconds=statistics.median(r.seconds for r in runs),
                               cpu=statistics.median(r.cpu for r in runs))


# The end of the plain way to learn a model's heads, as a user writes it: for `config`, how many Auto
# classes' mappings accept it (Python code, run with `python -c`).
PLAIN_HEAD_COUNT = """
from transformers.models.auto import modeling_auto
from transformers.models.auto.auto_factory import _BaseAutoModelClass
autos = [v for n, v in vars(modeling_auto).items() if n.startswith("Auto") and isinstance(v, type)
         and issubclass(v, _BaseAutoModelClass) and getattr(v, "_model_mapping", None) is not None]
print(sum(type(config) in auto._model_mapping for auto in autos))
"""

# The Llama-3.1-405B-shaped checkpoint that inspect_headers.py and inspect_command.py read.
LLAMA_405B_REPO = "meta-llama/Llama-3.1-405B"
LLAMA_405B_PARAMETERS = 405_853_388_800
_LLAMA_405B_SHARDS = 191
_LLAMA_405B_CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 16384,
    "intermediate_size": 53248, "num_hidden_layers": 126, "num_attention_heads": 128,
    "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu",
}


def _llama_405b_tensors() -> list[tuple[str, list[int]]]:
    """(name, shape) of every tensor of Llama-3.1-405B, in checkpoint order."""
    config = _LLAMA_405B_CONFIG
    h, inter, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    kv = h // config["num_attention_heads"] * config["num_key_value_heads"]
    tensors = [("model.embed_tokens.weight", [vocab, h])]
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        tensors += [
            (p + "input_layernorm.weight", [h]),
            (p + "self_attn.q_proj.weight", [h, h]), (p + "self_attn.k_proj.weight", [kv, h]),
            (p + "self_attn.v_proj.weight", [kv, h]), (p + "self_attn.o_proj.weight", [h, h]),
            (p + "post_attention_layernorm.weight", [h]),
            (p + "mlp.gate_proj.weight", [inter, h]), (p + "mlp.up_proj.weight", [inter, h]),
            (p + "mlp.down_proj.weight", [h, inter]),
        ]
    return tensors + [("model.norm.weight", [h]), ("lm_head.weight", [vocab, h])]


def write_llama_405b(root: Path) -> None:
    """Llama-3.1-405B in `root`: config.json, model.safetensors.index.json and sparse BF16 shards, each a real
    safetensors header followed by a hole as large as its tensor data."""
    tensors = _llama_405b_tensors()
    total = sum(math.prod(shape) * 2 for _, shape in tensors)
    shards: list[list[tuple[str, list[int]]]] = [[] for _ in range(_LLAMA_405B_SHARDS)]
    position = 0
    for name, shape in tensors:  # a tensor goes to the shard its first byte falls in
        shards[position * _LLAMA_405B_SHARDS // total].append((name, shape))
        position += math.prod(shape) * 2
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(_LLAMA_405B_CONFIG, indent=2))
    weight_map = {}
    for number, members in enumerate(shards, 1):
        filename = f"model-{number:05d}-of-{_LLAMA_405B_SHARDS:05d}.safetensors"
        header, offset = {"__metadata__": {"format": "pt"}}, 0
        for name, shape in members:
            size = math.prod(shape) * 2
            header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
            offset += size
            weight_map[name] = filename
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)
        with open(root / filename, "wb") as handle:
            handle.write(len(raw).to_bytes(8, "little") + raw)
            handle.truncate(8 + len(raw) + offset)  # a hole: the size is right, the disk holds the header
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (root / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))


# A Llama-3-8B-shaped Q4_K_M-style GGUF (Q4_K weights, Q6_K for the output, attn_v and ffn_down, F32 norms) with
# the metadata of a real Llama 3 GGUF (128,256-entry vocabulary, its token types and 280,147 merges); the tensor
# data is a sparse hole of the right size, so the disk holds only the header.
LLAMA3_8B_GGUF = "Meta-Llama-3-8B-Q4_K_M.gguf"
LLAMA3_8B_PARAMETERS = 8_030_261_248
LLAMA3_8B_VOCAB = 128_256
_HIDDEN, _LAYERS, _HEADS, _KV_HEADS, _FFN, _MERGES = 4096, 32, 32, 8, 14336, 280_147


def _llama3_8b_gguf_tensors() -> dict[str, tuple[tuple[int, ...], str]]:
    """GGUF name -> (shape in torch order, GGML type)."""
    head_dim = _HIDDEN // _HEADS
    tensors = {"token_embd.weight": ((LLAMA3_8B_VOCAB, _HIDDEN), "Q4_K"), "output_norm.weight": ((_HIDDEN,), "F32"),
               "output.weight": ((LLAMA3_8B_VOCAB, _HIDDEN), "Q6_K")}
    for layer in range(_LAYERS):
        block = f"blk.{layer}"
        tensors |= {
            f"{block}.attn_norm.weight": ((_HIDDEN,), "F32"), f"{block}.ffn_norm.weight": ((_HIDDEN,), "F32"),
            f"{block}.attn_q.weight": ((_HIDDEN, _HIDDEN), "Q4_K"),
            f"{block}.attn_k.weight": ((_KV_HEADS * head_dim, _HIDDEN), "Q4_K"),
            f"{block}.attn_v.weight": ((_KV_HEADS * head_dim, _HIDDEN), "Q6_K"),
            f"{block}.attn_output.weight": ((_HIDDEN, _HIDDEN), "Q4_K"),
            f"{block}.ffn_gate.weight": ((_FFN, _HIDDEN), "Q4_K"), f"{block}.ffn_up.weight": ((_FFN, _HIDDEN), "Q4_K"),
            f"{block}.ffn_down.weight": ((_HIDDEN, _FFN), "Q6_K"),
        }
    return tensors


def write_llama3_8b_gguf(path: Path) -> None:
    """The header written by the gguf package, then a hole as large as the tensor data."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("Meta-Llama-3-8B")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    writer.add_context_length(8192)
    writer.add_embedding_length(_HIDDEN)
    writer.add_block_count(_LAYERS)
    writer.add_feed_forward_length(_FFN)
    writer.add_head_count(_HEADS)
    writer.add_head_count_kv(_KV_HEADS)
    writer.add_rope_dimension_count(_HIDDEN // _HEADS)
    writer.add_rope_freq_base(500000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(LLAMA3_8B_VOCAB)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("llama-bpe")
    writer.add_token_list([f"tok{i:06d}" for i in range(LLAMA3_8B_VOCAB)])
    writer.add_token_types([1] * LLAMA3_8B_VOCAB)
    writer.add_token_merges([f"m{i} x{i}" for i in range(_MERGES)])
    writer.add_bos_token_id(128000)
    writer.add_eos_token_id(128001)
    writer.add_chat_template("{% for message in messages %}{{ message['content'] }}{% endfor %}" * 20)
    data_bytes = 0
    for name, (shape, type_name) in _llama3_8b_gguf_tensors().items():
        qtype = gguf.GGMLQuantizationType[type_name]
        block, type_size = gguf.constants.GGML_QUANT_SIZES[qtype]
        byte_shape = (*shape[:-1], shape[-1] // block * type_size)
        nbytes = int(np.prod(byte_shape))
        writer.add_tensor_info(name, byte_shape, np.dtype(np.uint8), nbytes, raw_dtype=qtype)
        data_bytes += nbytes + (-nbytes % 32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    header = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(header + (-header % 32) + data_bytes)


@contextlib.contextmanager
def hub(repos: dict[str, Path]) -> Iterator[str]:
    """A Hub for `repos` (repository id -> folder, read at each request) in a process of its own while the
    block runs, as the Hub is another machine: yields its endpoint."""
    folders = json.dumps({repo: str(folder) for repo, folder in repos.items()})
    server = subprocess.Popen([sys.executable, __file__, folders], stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(server.stdout.readline())}"
    finally:
        server.terminate()
        server.wait()
        server.stdout.close()


def stats(endpoint: str, latency_ms: float | None = None) -> dict[str, int]:
    """Bytes and requests served since the last call (and reset them); `latency_ms` is then added to every
    request, as a network round trip would."""
    path = "/_stats" if latency_ms is None else f"/_latency/{latency_ms}"
    with urllib.request.urlopen(endpoint + path) as response:
        return json.loads(response.read())


class _HubHandler(BaseHTTPRequestHandler):
    """Just enough of the Hub API: a repository's file list with sizes and its tree, and its files with HEAD
    and Range; counts the requests and the bytes of their bodies."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the Hub
    repos: dict[str, Path]
    lock = threading.Lock()
    sent = 0
    requests = 0
    latency = 0.0  # seconds

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        time.sleep(self.latency)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        with self.lock:
            type(self).sent += len(body) if self.command != "HEAD" else 0
            type(self).requests += 1

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = urllib.request.unquote(self.path.split("?")[0])
        if path.startswith("/_latency/"):
            type(self).latency = float(path.rpartition("/")[2]) / 1000
            path = "/_stats"
        if path == "/_stats":  # not counted itself
            with self.lock:
                body = json.dumps({"bytes": type(self).sent, "requests": type(self).requests}).encode()
                type(self).sent = type(self).requests = 0
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if tree := re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/[^/]+", path):
            root = self.repos.get(tree.group(1))
            entries = [{"type": "file", "path": name, "size": file.stat().st_size,
                        "oid": hashlib.sha1(str(file).encode()).hexdigest()} for name, file in self._files(root)]
            return self._send_json(entries if root else None)
        if info := re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/[^/]+)?", path):
            root = self.repos.get(info.group(1))
            siblings = [{"rfilename": name, "size": file.stat().st_size} for name, file in self._files(root)]
            return self._send_json({"id": info.group(1), "sha": "0" * 40, "siblings": siblings} if root else None)
        match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/[^/]+/(.+)", path)
        root = self.repos.get(match.group(1)) if match else None
        self._send_file(root / match.group(2) if root and ".." not in match.group(2) else None)

    @staticmethod
    def _files(root: Path | None) -> list[tuple[str, Path]]:
        return [(str(p.relative_to(root)), p) for p in sorted(root.rglob("*")) if p.is_file()] if root else []

    def _send_json(self, data) -> None:
        """`data` as JSON, or 404 when it is None (no such repository)."""
        if data is None:
            return self._send(404, {"Content-Length": "0"})
        body = json.dumps(data).encode()
        self._send(200, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body)

    def _send_file(self, file: Path | None) -> None:
        """A repository file as the Hub's resolve endpoint sends it: whole, or the bytes of a Range header."""
        if file is None or not file.is_file():
            return self._send(404, {"X-Error-Code": "EntryNotFound", "Content-Length": "0"})
        size = file.stat().st_size
        headers = {"ETag": f'"{hashlib.sha1(str(file).encode()).hexdigest()}"', "X-Repo-Commit": "0" * 40,
                   "Accept-Ranges": "bytes"}
        start, end, status = 0, size, 200
        if ranged := re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "")):
            start = int(ranged.group(1))
            end = min(size, int(ranged.group(2)) + 1) if ranged.group(2) else size
            if start >= size:
                return self._send(416, {"Content-Range": f"bytes */{size}", "Content-Length": "0"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        body = b""
        if self.command == "GET":
            with open(file, "rb") as handle:
                handle.seek(start)
                body = handle.read(end - start)
        self._send(status, {**headers, "Content-Length": str(end - start)}, body)


class _HubServer(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 drops concurrent connects


if __name__ == "__main__":  # the server process hub() starts: its port on the first line, then it serves
    _HubHandler.repos = {repo: Path(folder) for repo, folder in json.loads(sys.argv[1]).items()}
    server = _HubServer(("127.0.0.1", 0), _HubHandler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
