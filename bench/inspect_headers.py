"""Benchmark: reading a Llama-3.1-405B-shaped checkpoint's safetensors headers, locally and over HTTP.

The checkpoint is generated in a temp dir: 191 shards listed in model.safetensors.index.json, each a
real safetensors header followed by a sparse hole as large as its tensor data (the sizes are right,
the disk holds only headers). Locally, `read_headers` is compared with opening every shard with
safetensors' own `safe_open`; over HTTP, with huggingface_hub's `get_safetensors_metadata`, both
against the same Hub-compatible server with Range support (a small server in this file: olah reads a
whole file into memory per request and hashes it for HEAD, so it cannot serve 800 GB of holes).
Targets (issue 4): 405,853,388,800 parameters; local < 3 s; HTTP < 3 s and < 2 MB read in total.
`write_checkpoint()` and `serve()` are importable for other benchmarks (bench/inspect_command.py).

Run: python bench/inspect_headers.py
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from support import finish, target  # a missed target exits 1

ROOT = Path(__file__).resolve().parents[1]
REPO_ID = "meta-llama/Llama-3.1-405B"
EXPECTED_PARAMETERS = 405_853_388_800
SHARDS = 191
CONFIG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 16384,
    "intermediate_size": 53248, "num_hidden_layers": 126, "num_attention_heads": 128,
    "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu",
}


def wait_for_server(endpoint: str) -> None:
    """Wait up to 5 s for the bench's HTTP server to answer (it starts in another process)."""
    for _ in range(100):
        try:
            stats(endpoint)
            return
        except OSError:
            time.sleep(0.05)


def llama_405b_tensors() -> list[tuple[str, list[int]]]:
    """(name, shape) of every tensor of Llama-3.1-405B, in checkpoint order."""
    h, inter, vocab = CONFIG["hidden_size"], CONFIG["intermediate_size"], CONFIG["vocab_size"]
    kv = h // CONFIG["num_attention_heads"] * CONFIG["num_key_value_heads"]
    tensors = [("model.embed_tokens.weight", [vocab, h])]
    for i in range(CONFIG["num_hidden_layers"]):
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


def write_checkpoint(root: Path) -> None:
    """config.json, model.safetensors.index.json and SHARDS sparse BF16 shards with real headers."""
    tensors = llama_405b_tensors()
    total = sum(math.prod(shape) * 2 for _, shape in tensors)
    shards: list[list[tuple[str, list[int]]]] = [[] for _ in range(SHARDS)]
    position = 0
    for name, shape in tensors:  # a tensor goes to the shard its first byte falls in
        shards[position * SHARDS // total].append((name, shape))
        position += math.prod(shape) * 2
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps(CONFIG, indent=2))
    weight_map = {}
    for number, members in enumerate(shards, 1):
        filename = f"model-{number:05d}-of-{SHARDS:05d}.safetensors"
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


class _HubHandler(BaseHTTPRequestHandler):
    """Just enough of the Hub API: a model's file list with sizes, and files with HEAD and Range."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the Hub
    root: Path
    lock = threading.Lock()
    sent = 0
    requests = 0
    latency = 0.0  # seconds added to every request, as a network round trip would

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
        if path == "/_stats":
            with self.lock:
                body = json.dumps({"bytes": type(self).sent, "requests": type(self).requests}).encode()
                type(self).sent = type(self).requests = 0
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if match := re.fullmatch(rf"/api/models/{REPO_ID}/revision/([^/]+)", path):
            siblings = [{"rfilename": p.name, "size": p.stat().st_size} for p in sorted(self.root.iterdir())]
            body = json.dumps({"id": REPO_ID, "sha": "0" * 40, "siblings": siblings}).encode()
            return self._send(200, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body)
        match = re.fullmatch(rf"/{REPO_ID}/resolve/[^/]+/(.+)", path)
        self._send_file(self.root / match.group(1) if match else None)

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


def serve(root: Path, port: int) -> None:
    _HubHandler.root = root
    ThreadingHTTPServer.request_queue_size = 128  # the default backlog of 5 drops concurrent connects
    ThreadingHTTPServer(("127.0.0.1", port), _HubHandler).serve_forever()


def stats(endpoint: str, path: str = "/_stats") -> dict[str, int]:
    """Bytes and requests served since the last call (and reset them)."""
    with urllib.request.urlopen(endpoint + path) as response:
        return json.loads(response.read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main() -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    scratch = Path(tempfile.mkdtemp(prefix="amx-bench-405b-"))
    # huggingface_hub reads these once, at import: set them before anything imports it.
    os.environ.update(HF_ENDPOINT=endpoint, HF_HOME=str(scratch / "hf-home"), HF_HUB_DISABLE_PROGRESS_BARS="1",
                      HF_HUB_DISABLE_TELEMETRY="1")
    os.environ.pop("HF_HUB_OFFLINE", None)
    os.environ.pop("HF_TOKEN", None)
    sys.path.insert(0, str(ROOT))
    import huggingface_hub.hf_api  # noqa: F401 - imported before the clocks start, for both sides

    from automodel_cli.files.reference import parse_reference
    from automodel_cli.formats.safetensors_header import read_headers

    root = scratch / "Llama-3.1-405B"
    _, seconds = timed(lambda: write_checkpoint(root))
    shards = sorted(root.glob("*.safetensors"))
    apparent = sum(p.stat().st_size for p in shards)
    on_disk = sum(p.stat().st_blocks * 512 for p in shards)
    print(f"checkpoint: {len(shards)} shards, {apparent / 1e9:,.1f} GB apparent, {on_disk / 1e6:.1f} MB on disk "
          f"(written in {seconds:.2f} s, removed at the end)")

    local, amx_local = timed(lambda: read_headers(parse_reference(str(root))))
    parameters = sum(math.prod(t.shape) for t in local.tensors)
    from safetensors import safe_open

    def plain_local() -> int:
        count = 0
        for shard in shards:
            with safe_open(shard, framework="numpy") as handle:
                count += sum(math.prod(handle.get_slice(k).get_shape()) for k in handle.keys())
        return count

    plain_parameters, plain_seconds = timed(plain_local)
    assert parameters == plain_parameters == EXPECTED_PARAMETERS, (parameters, plain_parameters)
    print(f"\nlocal:  amx read_headers {amx_local:.3f} s ({local.bytes_read / 1e6:.2f} MB read, "
          f"{parameters:,} parameters, {len(local.tensors)} tensors, {local.total_bytes / 1e9:,.1f} GB)  "
          f"vs safe_open on every shard {plain_seconds:.3f} s: ratio {amx_local / plain_seconds:.2f}x "
          f"{target('local headers', amx_local, '<', 3, 's')}")

    server = subprocess.Popen([sys.executable, __file__, "--serve", str(root), str(port)])
    try:
        wait_for_server(endpoint)
        over_http(endpoint, local)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(scratch, ignore_errors=True)


def over_http(endpoint: str, local) -> None:
    """amx and huggingface_hub against the same server: each run opens its own connections, as a fresh
    process would; medians of a few runs; then again with a simulated network round trip."""
    from huggingface_hub import close_session, get_safetensors_metadata

    from automodel_cli.files.reference import parse_reference
    from automodel_cli.formats.safetensors_header import read_headers

    def amx():
        remote = read_headers(parse_reference(REPO_ID))
        assert sum(math.prod(t.shape) for t in remote.tensors) == EXPECTED_PARAMETERS
        assert remote.total_bytes == local.total_bytes
        return remote.bytes_read

    def plain():
        assert sum(get_safetensors_metadata(REPO_ID).parameter_count.values()) == EXPECTED_PARAMETERS

    print(f"\nHTTP ({endpoint}: the Range-capable Hub-compatible server in this script)")
    print(f"  {'':22} {'amx s':>7} {'hf s':>7} {'ratio':>6}   {'amx MB':>7} {'hf MB':>7} {'ratio':>6}   "
          f"{'amx req':>7} {'hf req':>6}")
    for latency_ms, runs in ((0, 5), (50, 3)):
        stats(endpoint, f"/_latency/{latency_ms}")
        figures: dict[str, list] = {"amx": [], "hf": []}
        for _ in range(runs):
            for side, call in (("amx", amx), ("hf", plain)):
                close_session()
                _, seconds = timed(call)
                figures[side].append((seconds, stats(endpoint)))
        a, h = (statistics.median(seconds for seconds, _ in figures[side]) for side in ("amx", "hf"))
        a_served, h_served = figures["amx"][-1][1], figures["hf"][-1][1]  # the same in every run
        label = f"{latency_ms} ms per request" if latency_ms else "no added latency"
        print(f"  {label:22} {a:7.3f} {h:7.3f} {a / h:5.2f}x   {a_served['bytes'] / 1e6:7.3f} "
              f"{h_served['bytes'] / 1e6:7.3f} {a_served['bytes'] / h_served['bytes']:5.3f}x   "
              f"{a_served['requests']:7} {h_served['requests']:6}  {target(f'amx time, {label}', a, '<', 3, 's')} "
              f"{target(f'amx bytes, {label}', a_served['bytes'] / 1e6, '<', 2, 'MB')}")
    print(f"  (medians of the runs; MB = bytes the server sent; targets for amx: < 3 s and < 2 MB; "
          f"amx counted {amx():,} bytes read itself)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
        finish()
