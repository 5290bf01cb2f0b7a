"""State-space and linear-attention layers: a fixed-size state per sequence, whatever the number of tokens.

transformers' LinearAttentionLayer holds a convolution state (the channels the layer's causal conv1d
mixes, times its kernel) and a recurrent state. Their sizes follow from the mixer each family uses,
recognised by the config fields it reads (not by model names); a mixer none of these describe is unknown.
"""

from __future__ import annotations

from .group import CacheGroup, positive

LAYER_TYPES = ("linear_attention",)


def _mamba2(config) -> tuple[int, str] | None:
    """Mamba-2 (bamba, falcon_h1, granitemoehybrid, nemotron_h, mamba2): heads x head dim x state, and a
    conv over the inner channels plus B and C of every group."""
    heads = positive(config, "mamba_n_heads", "mamba_num_heads", "num_heads")
    head_dim = positive(config, "mamba_d_head", "mamba_head_dim", "head_dim")
    groups = positive(config, "mamba_n_groups", "n_groups")
    state = positive(config, "mamba_d_state", "ssm_state_size", "state_size")
    kernel = positive(config, "mamba_d_conv", "conv_kernel")
    if None in (heads, head_dim, groups, state, kernel):
        return None
    inner = positive(config, "mamba_d_ssm") or heads * head_dim
    return (inner + 2 * groups * state) * kernel + heads * head_dim * state, f"Mamba-2 state {state}"


def _mamba(config) -> tuple[int, str] | None:
    """Mamba (mamba, falcon_mamba, jamba, zamba): the inner channels times the conv kernel and times the state.

    A config with Mamba-2 fields (heads of a head dim, groups) spelled otherwise is not taken for Mamba."""
    if positive(config, "mamba_headdim", "mamba_ngroups", "mamba_n_groups", "n_groups", "mamba_d_head") is not None:
        return None
    state = positive(config, "mamba_d_state", "state_size")
    kernel = positive(config, "mamba_d_conv", "conv_kernel")
    expand, hidden = positive(config, "mamba_expand", "expand"), positive(config, "hidden_size")
    inner = positive(config, "intermediate_size") if positive(config, "state_size") else None
    inner = inner or (expand * hidden if expand and hidden else None)
    if None in (state, kernel, inner):
        return None
    return inner * (kernel + state), f"Mamba state {state}"


def _gated_delta(config) -> tuple[int, str] | None:
    """Gated DeltaNet (qwen3_next): a conv over queries, keys and values, and a key x value state per head."""
    key_heads, key_dim = positive(config, "linear_num_key_heads"), positive(config, "linear_key_head_dim")
    value_heads, value_dim = positive(config, "linear_num_value_heads"), positive(config, "linear_value_head_dim")
    kernel = positive(config, "linear_conv_kernel_dim")
    if None in (key_heads, key_dim, value_heads, value_dim, kernel):
        return None
    conv = (2 * key_heads * key_dim + value_heads * value_dim) * kernel
    return conv + value_heads * key_dim * value_dim, "Gated DeltaNet"


MIXERS = (_gated_delta, _mamba2, _mamba)


def state_elements(config) -> tuple[int, str] | None:
    """Elements of one layer's fixed-size state, and which mixer it is; None when no mixer here fits."""
    return next((found for mixer in MIXERS if (found := mixer(config)) is not None), None)


def group(config, layers: int, model_type: str | None):
    found = state_elements(config)
    return CacheGroup("state", layers, per_sequence=found[0], detail=found[1]) if found else None
