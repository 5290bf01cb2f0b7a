"""Tiny GGUF checkpoints written at test time with the `gguf` package (llama.cpp's own writer).

`write_tiny_gguf` writes a decoder with llama.cpp's tensor names and metadata keys, so transformers'
GGUF loader reads it as it reads a real file: `AutoConfig.from_pretrained(dir, gguf_file=name)` and
`AutoModelForCausalLM.from_pretrained(dir, gguf_file=name)` work on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HIDDEN, LAYERS, HEADS, KV_HEADS, FFN, VOCAB, CONTEXT = 64, 2, 4, 2, 96, 128, 256
FILE_TYPES = {"F32": 0, "F16": 1, "Q8_0": 7, "Q4_0": 2, "BF16": 32}


def tiny_tensors(arch: str, tied: bool = False, vocab: int = VOCAB) -> dict[str, tuple[int, ...]]:
    """GGUF tensor name -> shape in torch order (out_features, in_features)."""
    head_dim = HIDDEN // HEADS
    shapes: dict[str, tuple[int, ...]] = {"token_embd.weight": (vocab, HIDDEN), "output_norm.weight": (HIDDEN,)}
    if not tied:
        shapes["output.weight"] = (vocab, HIDDEN)
    for layer in range(LAYERS):
        block = f"blk.{layer}"
        shapes |= {
            f"{block}.attn_norm.weight": (HIDDEN,),
            f"{block}.attn_q.weight": (HEADS * head_dim, HIDDEN),
            f"{block}.attn_k.weight": (KV_HEADS * head_dim, HIDDEN),
            f"{block}.attn_v.weight": (KV_HEADS * head_dim, HIDDEN),
            f"{block}.attn_output.weight": (HIDDEN, HEADS * head_dim),
            f"{block}.ffn_norm.weight": (HIDDEN,),
            f"{block}.ffn_gate.weight": (FFN, HIDDEN),
            f"{block}.ffn_up.weight": (FFN, HIDDEN),
            f"{block}.ffn_down.weight": (HIDDEN, FFN),
        }
        if arch == "qwen2":
            shapes |= {f"{block}.attn_q.bias": (HEADS * head_dim,), f"{block}.attn_k.bias": (KV_HEADS * head_dim,),
                       f"{block}.attn_v.bias": (KV_HEADS * head_dim,)}
    return shapes


def tiny_parameter_count(arch: str, tied: bool = False, vocab: int = VOCAB) -> int:
    return sum(int(np.prod(shape)) for shape in tiny_tensors(arch, tied, vocab).values())


def write_tiny_gguf(path: Path, arch: str = "llama", ggml_type: str = "F32", tied: bool = False,
                    name: str = "tiny", vocab: int = VOCAB, split_max_tensors: int = 0) -> Path:
    """A tiny decoder of `arch` (llama, qwen2, or any other name for an architecture transformers lacks);
    2-D weights in `ggml_type` (F32, F16, BF16, Q8_0, Q4_0), norms and biases in F32 as llama.cpp does.
    With `split_max_tensors`, the parts are written as `<stem>-0000k-of-0000n.gguf` next to `path`."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), arch, split_max_tensors=split_max_tensors)
    writer.add_name(name)
    writer.add_file_type(FILE_TYPES[ggml_type])
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    if arch == "llama":
        writer.add_rope_dimension_count(HIDDEN // HEADS)
    writer.add_tokenizer_model("llama")
    writer.add_token_list([f"tok{i}" for i in range(vocab)])
    writer.add_token_scores([0.0] * vocab)
    writer.add_token_types([1] * vocab)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    rng = np.random.default_rng(0)
    qtype = gguf.GGMLQuantizationType[ggml_type]
    for tensor_name, shape in tiny_tensors(arch, tied, vocab).items():
        data = (rng.standard_normal(shape) * 0.02).astype(np.float32)
        if len(shape) == 1 or ggml_type == "F32":
            writer.add_tensor(tensor_name, data)
        elif ggml_type == "F16":
            writer.add_tensor(tensor_name, data.astype(np.float16))
        else:
            writer.add_tensor(tensor_name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
