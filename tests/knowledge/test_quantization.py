"""knowledge/quantization: the load outcome asked of the installed quantizer must be what a real
`from_pretrained` does on this machine, for a tiny checkpoint in each method's real tensor layout."""

from __future__ import annotations

import json

import pytest
from support.quantized_checkpoints import (
    LAYOUTS,
    backend_installed,
    kept_quantized,
    real_load,
    tiny_llama,
    write_quantized,
)

from automodel_cli.base.errors import ConfigError
from automodel_cli.knowledge.quantization.config import read_quantization
from automodel_cli.knowledge.quantization.loading import loading_outcome
from automodel_cli.knowledge.quantization.methods import method_for
from automodel_cli.knowledge.quantization.supported import supported_methods


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("quantized")
    return {layout: write_quantized(layout, root / layout) for layout in LAYOUTS}


def test_supported_methods_are_the_installed_mapping_read_without_importing_it():
    from transformers.quantizers.auto import AUTO_QUANTIZATION_CONFIG_MAPPING

    assert supported_methods() == tuple(AUTO_QUANTIZATION_CONFIG_MAPPING)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_outcome_is_what_from_pretrained_does_here(checkpoints, layout):
    """Whatever this environment has: the backend installed decides whether the real load raises, and amx
    must say what that load did (fails, dequantized, or kept quantized) in each case."""
    raw = json.loads((checkpoints[layout] / "config.json").read_text())
    outcome = loading_outcome(read_quantization(raw), raw["dtype"])
    error, model, _ = real_load(checkpoints[layout])
    if backend_installed(layout):
        assert error is None, error
    elif layout in ("gptq", "awq", "bnb-4bit", "bnb-8bit", "compressed-tensors", "torchao-int8"):
        assert error is not None  # an ImportError, or 5.0's ValueError for torchao
    if outcome.quantizer is None:  # unknown to this release: it loads the packed tensors as plain weights
        assert "ignore_mismatched_sizes" in str(error)  # the packed shapes do not fit the model
        assert outcome.load == "fails" and "modelopt" in outcome.reason
        return
    if error is not None:
        assert outcome.load == "fails"
        assert outcome.reason == f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
        assert outcome.missing_packages, "an ImportError names what to install"
        for requirement in outcome.missing_packages:
            assert requirement in str(error).replace("`", "")
    else:
        assert outcome.load == ("quantized" if kept_quantized(model) else "dequantized")
        assert outcome.loaded_dtype == str(model.dtype).removeprefix("torch.") and not outcome.missing_packages


def test_missing_packages_are_seen_not_copied(checkpoints):
    """bitsandbytes' minimum version is the installed release's, from its own message; installed, nothing
    is missing."""
    raw = json.loads((checkpoints["bnb-4bit"] / "config.json").read_text())
    outcome = loading_outcome(read_quantization(raw), "bfloat16")
    error, _, _ = real_load(checkpoints["bnb-4bit"])
    if backend_installed("bnb-4bit"):
        assert error is None and outcome.load == "quantized" and outcome.missing_packages == []
    else:
        assert outcome.missing_packages[0].startswith("bitsandbytes>=") and outcome.missing_packages[0] in str(error)


@pytest.mark.parametrize("layout, bits", [("bnb-4bit", 4), ("bnb-8bit", 8)])
def test_the_bitsandbytes_layouts_are_those_bitsandbytes_saves(tmp_path, checkpoints, layout, bits):
    """With bitsandbytes installed, a model it quantizes and saves has the written layout's tensor names,
    shapes and dtypes; without it, transformers refuses to quantize at all."""
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    options = {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4"} if bits == 4 else {"load_in_8bit": True}
    plain = tmp_path / "plain"
    tiny_llama().save_pretrained(plain)
    try:
        quantized = AutoModelForCausalLM.from_pretrained(plain, quantization_config=BitsAndBytesConfig(**options))
    except ImportError:
        assert not backend_installed(layout)
        return
    quantized.save_pretrained(tmp_path / "saved")

    def layout_of(directory):
        with safe_open(directory / "model.safetensors", "pt") as file:
            return {name: (file.get_slice(name).get_dtype(), file.get_slice(name).get_shape()) for name in file.keys()}

    assert layout_of(tmp_path / "saved") == layout_of(checkpoints[layout])


def test_an_unknown_method_lists_the_supported_ones():
    outcome = loading_outcome(read_quantization({"quantization_config": {"quant_method": "modelopt"}}), None)
    assert outcome.load == "fails" and outcome.quantizer is None
    assert all(method in outcome.reason for method in supported_methods())


def test_stored_tensors_map_to_their_logical_weight():
    assert method_for("gptq").logical_name("model.layers.0.mlp.up_proj.qzeros") == "model.layers.0.mlp.up_proj.weight"
    assert method_for("fp8").logical_name("a.q_proj.weight_scale_inv") == "a.q_proj.weight"
    assert method_for("mxfp4").logical_name("model.layers.0.mlp.experts.gate_up_proj_blocks") == \
        "model.layers.0.mlp.experts.gate_up_proj"
    assert method_for("bitsandbytes_4bit").logical_name("a.o_proj.weight.quant_state.bitsandbytes__nf4") == \
        "a.o_proj.weight"
    assert method_for("compressed-tensors").logical_name("a.o_proj.weight_packed") == "a.o_proj.weight"
    assert method_for("gptq").logical_name("model.norm.weight") is None
    torchao = method_for("torchao")
    assert torchao.logical_name("a.q_proj._weight_qdata") == torchao.logical_name("a.q_proj._weight_scale") == \
        torchao.logical_name("a.q_proj._weight_scale_and_zero") == "a.q_proj.weight"
    assert torchao.logical_name("a.experts._gate_up_proj_per_tensor_scale") == "a.experts.gate_up_proj"


@pytest.mark.parametrize("quantization_config, key", [
    ("int4", "quantization_config must be an object"),
    ({"quant_method": 4}, "quant_method must be a string"),
    ({"bits": 4}, "has no quant_method"),
    ({"quant_method": "gptq", "bits": "4"}, "bits must be an integer"),
    ({"quant_method": "gptq", "bits": 10**30}, "bits must be an integer"),
    ({"quant_method": "gptq", "bits": True}, "bits must be an integer"),
    ({"quant_method": "gptq", "group_size": -2}, "group_size must be an integer"),
    ({"quant_method": "fp8", "weight_block_size": [0, 128]}, "weight_block_size must be two integers"),
    ({"quant_method": "fp8", "weight_block_size": [128]}, "weight_block_size must be two integers"),
    ({"quant_method": "fp8", "modules_to_not_convert": "lm_head"}, "modules_to_not_convert must be a list"),
    ({"quant_method": "compressed-tensors", "ignore": [1]}, "ignore must be a list"),
    ({"load_in_4bit": "yes"}, "load_in_4bit must be true or false"),
])
def test_malformed_quantization_configs_are_refused_with_the_key(quantization_config, key):
    with pytest.raises(ConfigError, match=key):
        read_quantization({"quantization_config": quantization_config})


def test_the_bits_a_method_implies():
    assert read_quantization({"quantization_config": {"load_in_4bit": True}}).method == "bitsandbytes_4bit"
    assert read_quantization({"quantization_config": {"quant_method": "fp8"}}).bits == 8
    assert read_quantization({"quantization_config": {"quant_method": "mxfp4"}}).bits == 4
    assert read_quantization({"quantization_config": {"quant_method": "torchao",
                                                      "quant_type": "int4_weight_only"}}).bits == 4
    assert read_quantization({"quantization_config": {"quant_method": "torchao",
                                                      "quant_type": {"default": [1]}}}).bits is None
    groups = {"g": {"weights": {"num_bits": 8}}, "h": {"weights": {"num_bits": 4}}}
    assert read_quantization({"quantization_config": {"quant_method": "compressed-tensors",
                                                      "config_groups": groups}}).bits is None


def test_device_asks_the_quantizer_for_another_machine(checkpoints):
    """FP8 keeps its weights quantized from compute capability 8.9 on, as the installed quantizer decides,
    where its integration imports here (5.0's needs triton, which a CPU torch lacks: then every device
    fails, as the CPU load here does); torch's answers are restored afterwards."""
    import torch

    from automodel_cli.knowledge.quantization.machine import parse_device

    spec = read_quantization(json.loads((checkpoints["fp8"] / "config.json").read_text()))
    outcomes = {device: loading_outcome(spec, "bfloat16", parse_device(device))
                for device in ("cpu", "cuda:8.0", "cuda:8.9", "cuda:10.0", "xpu", "mps")}
    error, _, _ = real_load(checkpoints["fp8"])
    if error is None:
        assert {device: outcome.load for device, outcome in outcomes.items()} == {
            "cpu": "dequantized", "cuda:8.0": "dequantized", "cuda:8.9": "quantized", "cuda:10.0": "quantized",
            "xpu": "quantized", "mps": "dequantized"}
    else:
        assert isinstance(error, ModuleNotFoundError) and error.name == "triton"
        assert all(outcome.load == "fails" and outcome.missing_packages == ["triton"] for outcome in outcomes.values())
    assert torch.cuda.is_available() is False and torch.accelerator.current_accelerator() is None
    gptq = read_quantization(json.loads((checkpoints["gptq"] / "config.json").read_text()))
    assert loading_outcome(gptq, None, parse_device("cuda")).missing_packages == ["optimum"]


@pytest.mark.parametrize("text", ["gpu", "cuda:x", "cpu:8.9", "cuda:100.0", ""])
def test_a_malformed_device_is_refused(text):
    from automodel_cli.base.errors import BadInputError
    from automodel_cli.knowledge.quantization.machine import parse_device

    with pytest.raises(BadInputError, match="unknown --device"):
        parse_device(text)
