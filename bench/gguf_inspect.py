"""Benchmark: `amx inspect` of a multi-GB GGUF checkpoint over HTTP, against downloading it.

The file is generated in a temp dir with the `gguf` package: a Llama-3-8B-shaped Q4_K_M-style mix
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

import numpy as np
from support import environment, hub, run, stats, timed

REPO_ID = "bench/Llama-3-8B-GGUF"
FILE = "Meta-Llama-3-8B-Q4_K_M.gguf"
HIDDEN, LAYERS, HEADS, KV_HEADS, FFN, VOCAB, MERGES = 4096, 32, 32, 8, 14336, 128_256, 280_147
EXPECTED_PARAMETERS = 8_030_261_248


def _tensors() -> dict[str, tuple[tuple[int, ...], str]]:
    """GGUF name -> (shape in torch order, GGML type)."""
    head_dim = HIDDEN // HEADS
    tensors = {"token_embd.weight": ((VOCAB, HIDDEN), "Q4_K"), "output_norm.weight": ((HIDDEN,), "F32"),
               "output.weight": ((VOCAB, HIDDEN), "Q6_K")}
    for layer in range(LAYERS):
        block = f"blk.{layer}"
        tensors |= {
            f"{block}.attn_norm.weight": ((HIDDEN,), "F32"), f"{block}.ffn_norm.weight": ((HIDDEN,), "F32"),
            f"{block}.attn_q.weight": ((HIDDEN, HIDDEN), "Q4_K"),
            f"{block}.attn_k.weight": ((KV_HEADS * head_dim, HIDDEN), "Q4_K"),
            f"{block}.attn_v.weight": ((KV_HEADS * head_dim, HIDDEN), "Q6_K"),
            f"{block}.attn_output.weight": ((HIDDEN, HIDDEN), "Q4_K"),
            f"{block}.ffn_gate.weight": ((FFN, HIDDEN), "Q4_K"), f"{block}.ffn_up.weight": ((FFN, HIDDEN), "Q4_K"),
            f"{block}.ffn_down.weight": ((HIDDEN, FFN), "Q6_K"),
        }
    return tensors


def write_sparse_gguf(path: Path) -> None:
    """The header written by the gguf package, then a hole as large as the tensor data."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("Meta-Llama-3-8B")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    writer.add_context_length(8192)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(HIDDEN // HEADS)
    writer.add_rope_freq_base(500000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(VOCAB)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("llama-bpe")
    writer.add_token_list([f"tok{i:06d}" for i in range(VOCAB)])
    writer.add_token_types([1] * VOCAB)
    writer.add_token_merges([f"m{i} x{i}" for i in range(MERGES)])
    writer.add_bos_token_id(128000)
    writer.add_eos_token_id(128001)
    writer.add_chat_template("{% for message in messages %}{{ message['content'] }}{% endfor %}" * 20)
    data_bytes = 0
    for name, (shape, type_name) in _tensors().items():
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
        _, written = timed(lambda: write_sparse_gguf(root / FILE))
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
            assert data["total_parameters"] == EXPECTED_PARAMETERS, data["total_parameters"]
            assert g["quantization"] == "Q4_K_M" and data["summary"]["vocab_size"] == VOCAB
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
