"""Tiny Llama checkpoints in the real tensor layouts of quantization methods, written with safetensors:
the packed tensors are zeros, but their names, shapes and dtypes are those the method's loader reads."""

from __future__ import annotations

import json
import math
from pathlib import Path

LINEAR = ("proj.weight",)  # the decoder layers' Linear weights; embeddings, norms and lm_head stay as they are


def _gptq(name, weight, torch):
    out_features, in_features = weight.shape
    base = name.removesuffix(".weight")
    return {f"{base}.qweight": torch.zeros(in_features // 8, out_features, dtype=torch.int32),
            f"{base}.qzeros": torch.zeros(in_features // 32, out_features // 8, dtype=torch.int32),
            f"{base}.scales": torch.ones(in_features // 32, out_features, dtype=torch.float16),
            f"{base}.g_idx": torch.arange(in_features, dtype=torch.int32) // 32}


def _awq(name, weight, torch):
    out_features, in_features = weight.shape
    base = name.removesuffix(".weight")
    return {f"{base}.qweight": torch.zeros(in_features, out_features // 8, dtype=torch.int32),
            f"{base}.qzeros": torch.zeros(in_features // 32, out_features // 8, dtype=torch.int32),
            f"{base}.scales": torch.ones(in_features // 32, out_features, dtype=torch.float16)}


def _bnb_4bit(name, weight, torch):
    """As bitsandbytes' Params4bit saves itself: the non-tensor quant state is a JSON blob of bytes."""
    state = json.dumps({"quant_type": "nf4", "blocksize": 64, "dtype": "bfloat16", "shape": list(weight.shape)})
    return {name: torch.zeros(weight.numel() // 2, 1, dtype=torch.uint8),
            f"{name}.absmax": torch.ones(weight.numel() // 64),
            f"{name}.quant_map": torch.linspace(-1, 1, 16),
            f"{name}.quant_state.bitsandbytes__nf4": torch.tensor(list(state.encode()), dtype=torch.uint8)}


def _bnb_8bit(name, weight, torch):
    """As bitsandbytes' Int8Params saves itself: int8 rows, one float32 scale a row (SCB), the format byte."""
    base = name.removesuffix(".weight")
    return {name: torch.ones(weight.shape, dtype=torch.int8), f"{base}.SCB": torch.ones(weight.shape[0]),
            f"{name}_format": torch.tensor(0, dtype=torch.uint8)}


def _fp8(name, weight, torch):
    out_features, in_features = weight.shape
    return {name: weight.float().to(torch.float8_e4m3fn),
            f"{name}_scale_inv": torch.ones(math.ceil(out_features / 128), math.ceil(in_features / 128))}


def _compressed(name, weight, torch):
    out_features, in_features = weight.shape
    base = name.removesuffix(".weight")
    return {f"{base}.weight_packed": torch.zeros(out_features, in_features // 8, dtype=torch.int32),
            f"{base}.weight_scale": torch.ones(out_features, in_features // 32, dtype=torch.bfloat16),
            f"{base}.weight_shape": torch.tensor([out_features, in_features], dtype=torch.int64)}


def _nvfp4(name, weight, torch):
    out_features, in_features = weight.shape
    return {name: torch.zeros(out_features, in_features // 2, dtype=torch.uint8),
            f"{name}_scale": torch.ones(out_features, in_features // 16).to(torch.float8_e4m3fn),
            f"{name}_scale_2": torch.ones(()), name.removesuffix("weight") + "input_scale": torch.ones(())}


def _torchao_int8(name, weight, torch):
    """As transformers saves a torchao Int8WeightOnlyConfig model (torchao 0.18): the Int8Tensor's parts
    (not the safetensors metadata torchao writes to rebuild the subclass: no test environment has torchao)."""
    out_features, _ = weight.shape
    base = name.removesuffix(".weight")
    return {f"{base}._weight_qdata": torch.ones(weight.shape, dtype=torch.int8),
            f"{base}._weight_scale": torch.ones(out_features, 1),
            f"{base}._weight_zero_point": torch.zeros(out_features, 1, dtype=torch.int8)}


_GROUPS = {"group_0": {"targets": ["Linear"], "weights": {"num_bits": 4, "type": "int", "symmetric": True,
                                                         "strategy": "group", "group_size": 32}}}
# layout -> (quantization_config, how one Linear weight is stored)
LAYOUTS = {
    "gptq": ({"quant_method": "gptq", "bits": 4, "group_size": 32, "desc_act": False, "sym": True}, _gptq),
    "awq": ({"quant_method": "awq", "bits": 4, "group_size": 32, "version": "gemm", "zero_point": True}, _awq),
    "bnb-4bit": ({"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                  "bnb_4bit_compute_dtype": "bfloat16"}, _bnb_4bit),
    "bnb-8bit": ({"quant_method": "bitsandbytes", "load_in_8bit": True}, _bnb_8bit),
    "fp8": ({"quant_method": "fp8", "weight_block_size": [128, 128], "activation_scheme": "dynamic",
             "modules_to_not_convert": ["lm_head"]}, _fp8),
    "compressed-tensors": ({"quant_method": "compressed-tensors", "format": "pack-quantized",
                            "quantization_status": "compressed", "config_groups": _GROUPS, "ignore": ["lm_head"]},
                           _compressed),
    "torchao-int8": ({"quant_method": "torchao", "quant_type": {"default": {"_type": "Int8WeightOnlyConfig",
                                                                           "_version": 2, "_data": {}}}},
                     _torchao_int8),
    "modelopt-nvfp4": ({"quant_method": "modelopt", "quant_algo": "NVFP4", "group_size": 16,
                        "exclude_modules": ["lm_head"]}, _nvfp4),
}


def tiny_llama_config():
    """The config of the tiny LlamaForCausalLM (bfloat16) every layout stores."""
    from transformers import LlamaConfig

    return LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, vocab_size=128, architectures=["LlamaForCausalLM"], dtype="bfloat16")


def tiny_llama():
    """The unquantized tiny LlamaForCausalLM (bfloat16) every layout stores."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    return LlamaForCausalLM(tiny_llama_config()).to(torch.bfloat16)


def write_quantized_config(layout: str, directory: Path) -> Path:
    """The config.json of `write_quantized`'s tiny Llama alone: a quantized model without its weights."""
    raw = tiny_llama_config().to_dict()
    raw["quantization_config"] = LAYOUTS[layout][0]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(raw))
    return directory


def write_quantized(layout: str, directory: Path) -> Path:
    """A tiny LlamaForCausalLM (bfloat16) saved in `layout`'s tensor layout, with its quantization_config."""
    import torch
    from safetensors.torch import save_file

    quantization_config, store = LAYOUTS[layout]
    model = tiny_llama()
    config = model.config
    tensors = {}
    for name, weight in model.state_dict().items():
        tensors.update(store(name, weight, torch) if name.endswith(LINEAR) else {name: weight.contiguous()})
    directory.mkdir(parents=True, exist_ok=True)
    save_file(tensors, directory / "model.safetensors", metadata={"format": "pt"})
    raw = config.to_dict()
    raw["quantization_config"] = quantization_config
    (directory / "config.json").write_text(json.dumps(raw))
    return directory


def write_gpt_oss_mxfp4(directory: Path) -> Path:
    """A tiny GptOssForCausalLM (bfloat16) in gpt-oss's MXFP4 layout: each expert weight as `_blocks`
    (experts, out, in/32, 16 bytes of two 4-bit values) and `_scales` (one E8M0 byte a block of 32)."""
    import torch
    from safetensors.torch import save_file
    from transformers import GptOssConfig, GptOssForCausalLM

    config = GptOssConfig(hidden_size=64, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                          num_key_value_heads=2, head_dim=16, vocab_size=128, num_local_experts=4,
                          num_experts_per_tok=2, architectures=["GptOssForCausalLM"], dtype="bfloat16")
    torch.manual_seed(0)
    tensors = {}
    for name, weight in GptOssForCausalLM(config).to(torch.bfloat16).state_dict().items():
        if name.endswith(("experts.gate_up_proj", "experts.down_proj")):
            experts, inputs, outputs = weight.shape
            tensors[f"{name}_blocks"] = torch.zeros(experts, outputs, inputs // 32, 16, dtype=torch.uint8)
            tensors[f"{name}_scales"] = torch.full((experts, outputs, inputs // 32), 127, dtype=torch.uint8)
        else:
            tensors[name] = weight.contiguous()
    directory.mkdir(parents=True, exist_ok=True)
    save_file(tensors, directory / "model.safetensors", metadata={"format": "pt"})
    raw = config.to_dict()
    raw["quantization_config"] = {"quant_method": "mxfp4", "modules_to_not_convert": [
        "model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"]}
    (directory / "config.json").write_text(json.dumps(raw))
    return directory


# layout -> the module of the backend its load needs, which .ci/run's .venv installs (the test-quantization
# extra) for bitsandbytes and compressed-tensors and its oldest virtualenv does not; None: no backend.
BACKENDS = {"gptq": "optimum", "awq": "gptqmodel", "bnb-4bit": "bitsandbytes", "bnb-8bit": "bitsandbytes",
            "fp8": None, "compressed-tensors": "compressed_tensors", "torchao-int8": "torchao",
            "modelopt-nvfp4": None}


def backend_installed(layout: str) -> bool:
    """Whether this environment has the layout's backend: it decides the outcome a test expects."""
    import importlib.util

    return BACKENDS[layout] is not None and importlib.util.find_spec(BACKENDS[layout]) is not None


def real_load(directory: Path, auto_class: str = "AutoModelForCausalLM"):
    """(exception, None, None) or (None, model, loading info) of a real `from_pretrained` here."""
    import logging

    import transformers

    logging.getLogger("transformers").setLevel(logging.ERROR)
    try:
        model, info = getattr(transformers, auto_class).from_pretrained(directory, output_loading_info=True)
    except Exception as error:  # noqa: BLE001 - the failure is what is compared
        return error, None, None
    return None, model, info


def kept_quantized(model) -> bool:
    """Whether the load kept the linear layers quantized: no floating `weight` of the unquantized shape."""
    layer = model.model.layers[0].mlp.up_proj
    weight = getattr(layer, "weight", None)
    return not (weight is not None and weight.is_floating_point()
                and tuple(weight.shape) == (layer.out_features, layer.in_features))


def held_bytes(model) -> int:
    """The memory the loaded weights hold: `get_memory_footprint()` (parameters and buffers) plus the
    tensors bitsandbytes keeps beside its parameters, which it does not count (the 4-bit quant state's
    absmax and maps, the 8-bit row scales SCB)."""
    import torch

    held = model.get_memory_footprint()
    for parameter in model.parameters():
        state = getattr(parameter, "quant_state", None)
        tensors = list(state.as_dict().values()) if state is not None else [getattr(parameter, "SCB", None)]
        held += sum(t.nbytes for t in tensors if isinstance(t, torch.Tensor))
    return held
