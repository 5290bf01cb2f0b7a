"""Benchmark: reading a Llama-3.1-405B-shaped checkpoint's safetensors headers, locally and over HTTP.

The checkpoint is generated in a temp dir by bench/support.py: 191 shards listed in
model.safetensors.index.json, each a real safetensors header followed by a sparse hole as large as its
tensor data (the sizes are right, the disk holds only headers). Locally, `read_headers` is compared
with opening every shard with safetensors' own `safe_open`; over HTTP, with huggingface_hub's
`get_safetensors_metadata`, both against the same Hub-compatible server with Range support
(bench/support.py's: olah reads a whole file into memory per request and hashes it for HEAD, so it
cannot serve 800 GB of holes). Targets (issue 4): 405,853,388,800 parameters; local < 3 s; HTTP < 3 s
and < 2 MB read in total.

Run: python bench/inspect_headers.py
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from support import LLAMA_405B_PARAMETERS, LLAMA_405B_REPO, ROOT, finish, hub, stats, target, timed, write_llama_405b


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="amx-bench-405b-"))
    root = scratch / "Llama-3.1-405B"
    try:
        # Served before huggingface_hub is imported, which reads HF_ENDPOINT once; the server reads the
        # folder at each request, so the checkpoint can be written after.
        with hub({LLAMA_405B_REPO: root}) as endpoint:
            os.environ.update(HF_ENDPOINT=endpoint, HF_HOME=str(scratch / "hf-home"),
                              HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1")
            os.environ.pop("HF_HUB_OFFLINE", None)
            os.environ.pop("HF_TOKEN", None)
            sys.path.insert(0, str(ROOT))
            import huggingface_hub.hf_api  # noqa: F401 - imported before the clocks start, for both sides

            over_http(endpoint, locally(root))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def locally(root: Path):
    """The checkpoint written in `root`, its headers read by amx and by safetensors: amx's answer."""
    from automodel_cli.files.reference import parse_reference
    from automodel_cli.formats.safetensors_header import read_headers

    _, seconds = timed(lambda: write_llama_405b(root))
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
    assert parameters == plain_parameters == LLAMA_405B_PARAMETERS, (parameters, plain_parameters)
    print(f"\nlocal:  amx read_headers {amx_local:.3f} s ({local.bytes_read / 1e6:.2f} MB read, "
          f"{parameters:,} parameters, {len(local.tensors)} tensors, {local.total_bytes / 1e9:,.1f} GB)  "
          f"vs safe_open on every shard {plain_seconds:.3f} s: ratio {amx_local / plain_seconds:.2f}x "
          f"{target('local headers', amx_local, '<', 3, 's')}")
    return local


def over_http(endpoint: str, local) -> None:
    """amx and huggingface_hub against the same server: each run opens its own connections, as a fresh
    process would; medians of a few runs; then again with a simulated network round trip."""
    from huggingface_hub import close_session, get_safetensors_metadata

    from automodel_cli.files.reference import parse_reference
    from automodel_cli.formats.safetensors_header import read_headers

    def amx():
        remote = read_headers(parse_reference(LLAMA_405B_REPO))
        assert sum(math.prod(t.shape) for t in remote.tensors) == LLAMA_405B_PARAMETERS
        assert remote.total_bytes == local.total_bytes
        return remote.bytes_read

    def plain():
        assert sum(get_safetensors_metadata(LLAMA_405B_REPO).parameter_count.values()) == LLAMA_405B_PARAMETERS

    print(f"\nHTTP ({endpoint}: the Range-capable Hub-compatible server of bench/support.py)")
    print(f"  {'':22} {'amx s':>7} {'hf s':>7} {'ratio':>6}   {'amx MB':>7} {'hf MB':>7} {'ratio':>6}   "
          f"{'amx req':>7} {'hf req':>6}")
    for latency_ms, runs in ((0, 5), (50, 3)):
        stats(endpoint, latency_ms)
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
    main()
    finish()
