"""Benchmark: `amx inspect` of a multi-GB GGUF checkpoint over HTTP, against downloading it.

The file is generated in a temp dir with the `gguf` package (`write_llama3_8b_gguf` in bench/support.py,
which bench/inspect_command.py reads too): a Llama-3-8B-shaped Q4_K_M-style mix
(Q4_K weights, Q6_K for the output, attn_v and ffn_down, F32 norms) with a 128,256-entry tokenizer
vocabulary, its token types and 280,147 merges in the metadata, as in a real Llama 3 GGUF. The tensor
data is a sparse hole of the right size (the disk holds only the header). It is served by the
Range-capable Hub-compatible server of bench/support.py.

amx reads the header in growing ranges; the plain way to learn the same facts (`from_pretrained(...,
gguf_file=...)` or llama.cpp) starts by downloading the whole file, which is timed here by streaming
it from the same server (to /dev/null, so the disk is not filled).

Run: python bench/gguf_inspect.py  (not bench/gguf.py: a script of that name would shadow the gguf package
for every script run from bench/)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from support import (
    LLAMA3_8B_GGUF,
    LLAMA3_8B_PARAMETERS,
    LLAMA3_8B_VOCAB,
    environment,
    hub,
    run,
    stats,
    timed,
    write_llama3_8b_gguf,
)

REPO_ID = "bench/Llama-3-8B-GGUF"
FILE = LLAMA3_8B_GGUF
def download(endpoint: str) -> int:
    """The whole file streamed from the server, as a download would fetch it (not written to disk)."""
    import urllib.request

    received = 0
    with urllib.request.urlopen(f"{endpoint}/{REPO_ID}/resolve/main/{FILE}") as response:
        while chunk := response.read(8 * 1024 * 1024):
            received += len(chunk)
    return received


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="amx-bench-gguf-"))
    root = scratch / "repo"
    root.mkdir()
    try:
        _, written = timed(lambda: write_llama3_8b_gguf(root / FILE))
        size = (root / FILE).stat().st_size
        print(f"{FILE}: {size / 1e9:.2f} GB apparent, {(root / FILE).stat().st_blocks * 512 / 1e6:.1f} MB on disk "
              f"(header and metadata; written in {written:.1f} s, removed at the end)")
        with hub({REPO_ID: root}) as endpoint:
            env = environment(HF_ENDPOINT=endpoint, HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1")
            env.pop("HF_HUB_OFFLINE", None)
            runs = []
            for _ in range(3):
                home = tempfile.mkdtemp(prefix="hf-home-", dir=scratch)
                done = run([sys.executable, "-m", "automodel_cli", "inspect", REPO_ID, "--json"],
                           {**env, "HF_HOME": home})
                runs.append((done.seconds, stats(endpoint), json.loads(done.stdout)))
            seconds = sorted(r[0] for r in runs)[1]
            served, data = runs[-1][1], runs[-1][2]
            g = data["gguf"]
            assert data["total_parameters"] == LLAMA3_8B_PARAMETERS, data["total_parameters"]
            assert g["quantization"] == "Q4_K_M" and data["summary"]["vocab_size"] == LLAMA3_8B_VOCAB
            assert data["checkpoint_bytes"] == size
            downloaded, download_seconds = timed(lambda: download(endpoint))
            plain = stats(endpoint)
            assert downloaded == size
        print(f"header: {g['header_bytes'] / 1e6:.2f} MB (vocabulary, token types and merges in the metadata), "
              f"{len(data['parameters'])} tensors, {data['total_parameters']:,} parameters, "
              f"{g['bits_per_weight']:.2f} bits per weight")
        print(f"amx inspect over HTTP (whole process, median of 3): {seconds:.2f} s, "
              f"{served['bytes'] / 1e6:.2f} MB served in {served['requests']} requests")
        print(f"downloading the file (streamed, not stored):       {download_seconds:.2f} s, "
              f"{plain['bytes'] / 1e6:,.1f} MB served")
        print(f"ratio amx/download: bytes {served['bytes'] / plain['bytes']:.5f}x, "
              f"time {seconds / download_seconds:.2f}x")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
