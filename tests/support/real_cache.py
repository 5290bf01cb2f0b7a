"""The ground truth for KV-cache sizes: the bytes of every tensor in the cache a real forward pass returns."""

from __future__ import annotations

# Tiny configs (2 to 4 layers) of each attention kind, keyword arguments of the named config class.
CACHE_KINDS = {
    "full": ("LlamaConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                 num_key_value_heads=2, intermediate_size=37, max_position_embeddings=128)),
    "sliding": ("MistralConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                      num_key_value_heads=2, intermediate_size=37, max_position_embeddings=128,
                                      sliding_window=16)),
    "hybrid": ("Gemma2Config", dict(vocab_size=99, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
                                    num_key_value_heads=2, head_dim=8, intermediate_size=37,
                                    max_position_embeddings=128, sliding_window=16)),
    "latent": ("DeepseekV3Config", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                        num_key_value_heads=4, intermediate_size=37, moe_intermediate_size=16,
                                        max_position_embeddings=128, kv_lora_rank=16, q_lora_rank=24,
                                        qk_rope_head_dim=8, qk_nope_head_dim=8, v_head_dim=8, n_routed_experts=4,
                                        num_experts_per_tok=2, n_group=2, topk_group=1, first_k_dense_replace=1)),
    "state": ("JambaConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
                                  num_key_value_heads=2, intermediate_size=37, max_position_embeddings=128,
                                  attn_layer_period=2, attn_layer_offset=1, expert_layer_period=2,
                                  expert_layer_offset=1, num_experts=2, mamba_d_state=8, mamba_d_conv=4,
                                  mamba_expand=2, use_mamba_kernels=False)),
    "encoder-decoder": ("T5Config", dict(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4)),
    # The same kinds in other families' spellings.
    "chunked-pattern": ("Gemma3TextConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=7,
                                                 num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                                                 intermediate_size=37, sliding_window=16,
                                                 max_position_embeddings=128)),
    "sliding-moe": ("GptOssConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
                                         num_key_value_heads=2, head_dim=8, intermediate_size=32,
                                         num_local_experts=4, num_experts_per_tok=2, sliding_window=16)),
    "latent-v2": ("DeepseekV2Config", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                           num_key_value_heads=4, intermediate_size=37, moe_intermediate_size=16,
                                           kv_lora_rank=16, q_lora_rank=24, qk_rope_head_dim=8, qk_nope_head_dim=8,
                                           v_head_dim=8, n_routed_experts=4, num_experts_per_tok=2,
                                           first_k_dense_replace=1, n_group=1, topk_group=1)),
    "mamba": ("MambaConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, state_size=8, conv_kernel=4,
                                  expand=2)),
    "mamba2": ("Mamba2Config", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_heads=8, head_dim=8,
                                    n_groups=2, state_size=8, conv_kernel=4, expand=2)),
    "mamba2-hybrid": ("BambaConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
                                          num_key_value_heads=2, intermediate_size=37, mamba_n_heads=8,
                                          mamba_d_head=8, mamba_n_groups=2, mamba_d_state=8, mamba_d_conv=4,
                                          mamba_expand=2, attn_layer_indices=[1])),
    "parallel-hybrid": ("FalconH1Config", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2,
                                               num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                                               intermediate_size=37, mamba_n_heads=8, mamba_d_head=8,
                                               mamba_n_groups=2, mamba_d_state=8, mamba_d_conv=4, mamba_expand=2,
                                               mamba_chunk_size=16, mamba_d_ssm=64)),
    "shared-attention-hybrid": ("ZambaConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=6,
                                                    num_attention_heads=4, num_key_value_heads=4,
                                                    attention_head_dim=16, intermediate_size=37, n_mamba_heads=2,
                                                    mamba_d_state=8, mamba_d_conv=4, mamba_expand=2,
                                                    attn_layer_period=2, attn_layer_offset=1)),
    "mamba2-with-mlp-layers": ("NemotronHConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=3,
                                                       num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                                                       intermediate_size=37, mamba_num_heads=8, mamba_head_dim=8,
                                                       n_groups=2, ssm_state_size=8, conv_kernel=4, expand=2,
                                                       layers_block_type=["mamba", "attention", "mlp"])),
    "mamba2-moe": ("GraniteMoeHybridConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2,
                                                  num_attention_heads=4, num_key_value_heads=2, intermediate_size=37,
                                                  mamba_n_heads=8, mamba_d_head=8, mamba_n_groups=2, mamba_d_state=8,
                                                  mamba_d_conv=4, mamba_expand=2, num_local_experts=4,
                                                  num_experts_per_tok=2, layer_types=["mamba", "attention"])),
    "gated-delta": ("Qwen3NextConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
                                            num_key_value_heads=2, head_dim=8, intermediate_size=37,
                                            moe_intermediate_size=16, shared_expert_intermediate_size=16,
                                            num_experts=4, num_experts_per_tok=2, linear_num_key_heads=2,
                                            linear_num_value_heads=4, linear_key_head_dim=8,
                                            linear_value_head_dim=8, linear_conv_kernel_dim=4)),
    "encoder-decoder-heads": ("BartConfig", dict(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=3,
                                                 encoder_attention_heads=4, decoder_attention_heads=2,
                                                 encoder_ffn_dim=37, decoder_ffn_dim=37,
                                                 max_position_embeddings=128)),
}


def _tensors(value, seen: set[int]):
    import torch

    if isinstance(value, torch.Tensor):
        if id(value) not in seen:
            seen.add(id(value))
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item, seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item, seen)
    elif hasattr(value, "__dict__") and type(value).__module__.startswith("transformers"):
        for item in vars(value).values():
            yield from _tensors(item, seen)


def cache_bytes(config, tokens: int, batch: int = 1) -> int:
    """Bytes of every tensor in the cache a float32 model of `config` returns after a forward pass of `tokens`
    tokens (for an encoder-decoder: `tokens` encoder and `tokens` decoder tokens), with use_cache=True."""
    import torch
    import transformers

    torch.manual_seed(0)
    config.dtype = torch.float32
    model_class = (transformers.AutoModelForSeq2SeqLM if config.is_encoder_decoder
                   else transformers.AutoModelForCausalLM)
    model = model_class.from_config(config, experts_implementation="eager").eval()
    ids = torch.randint(0, config.vocab_size, (batch, tokens))
    inputs = dict(input_ids=ids, decoder_input_ids=ids) if config.is_encoder_decoder else dict(input_ids=ids)
    with torch.no_grad():
        output = model(**inputs, use_cache=True)
    cache = output.cache
    return sum(t.numel() * t.element_size() for t in _tensors(cache, set()) if t.dtype.is_floating_point)


def kind_config(kind: str, **overrides):
    import transformers

    config_class, arguments = CACHE_KINDS[kind]
    return getattr(transformers, config_class)(**{**arguments, **overrides})
