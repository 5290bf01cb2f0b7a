"""knowledge/quantization: the load outcome asked of the installed quantizer must be what a real
`from_pretrained` does on this machine, for a tiny checkpoint in each method's real tensor layout."""

from __future__ import annotations

import json
import logging

import pytest
from support.quantized_checkpoints import LAYOUTS, write_quantized

from automodel_cli.base.errors import ConfigError
from automodel_cli.knowledge.quantization.config import read_quantization
from automodel_cli.knowledge.quantization.loading import loading_outcome
from automodel_cli.knowledge.quantization.methods import method_for
from automodel_cli.knowledge.quantization.supported import supported_methods


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("quantized")
    return {layout: write_quantized(layout, root / layout) for layout in LAYOUTS}


def real_load(directory):
    """(exception or None, loaded model or None) of a real AutoModelForCausalLM.from_pretrained here."""
    from transformers import AutoModelForCausalLM

    logging.getLogger("transformers").setLevel(logging.ERROR)
    try:
        return None, AutoModelForCausalLM.from_pretrained(directory)
    except Exception as error:  # noqa: BLE001 - the failure is what is compared
        return error, None


def test_supported_methods_are_the_installed_mapping_read_without_importing_it():
    from transformers.quantizers.auto import AUTO_QUANTIZATION_CONFIG_MAPPING

    assert supported_methods() == tuple(AUTO_QUANTIZATION_CONFIG_MAPPING)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_outcome_is_what_from_pretrained_does_here(checkpoints, layout):
    raw = json.loads((checkpoints[layout] / "config.json").read_text())
    outcome = loading_outcome(read_quantization(raw), raw["dtype"])
    error, model = real_load(checkpoints[layout])
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
        assert outcome.load == "dequantized" and outcome.loaded_dtype == str(model.dtype).removeprefix("torch.")


def test_missing_packages_are_seen_not_copied(checkpoints):
    """bitsandbytes' minimum version is the installed release's, from its own message."""
    raw = json.loads((checkpoints["bnb-4bit"] / "config.json").read_text())
    outcome = loading_outcome(read_quantization(raw), "bfloat16")
    error, _ = real_load(checkpoints["bnb-4bit"])
    assert outcome.missing_packages[0].startswith("bitsandbytes>=") and outcome.missing_packages[0] in str(error)


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
    groups = {"g": {"weights": {"num_bits": 8}}, "h": {"weights": {"num_bits": 4}}}
    assert read_quantization({"quantization_config": {"quant_method": "compressed-tensors",
                                                      "config_groups": groups}}).bits is None


def test_device_asks_the_quantizer_for_another_machine(checkpoints):
    """FP8 keeps its weights quantized from compute capability 8.9 on, as the installed quantizer decides;
    torch's answers are restored afterwards."""
    import torch

    from automodel_cli.knowledge.quantization.machine import parse_device

    spec = read_quantization(json.loads((checkpoints["fp8"] / "config.json").read_text()))
    loads = {device: loading_outcome(spec, "bfloat16", parse_device(device)).load
             for device in ("cpu", "cuda:8.0", "cuda:8.9", "cuda:10.0", "xpu", "mps")}
    assert loads == {"cpu": "dequantized", "cuda:8.0": "dequantized", "cuda:8.9": "quantized",
                     "cuda:10.0": "quantized", "xpu": "quantized", "mps": "dequantized"}
    assert torch.cuda.is_available() is False and torch.accelerator.current_accelerator() is None
    gptq = read_quantization(json.loads((checkpoints["gptq"] / "config.json").read_text()))
    assert loading_outcome(gptq, None, parse_device("cuda")).missing_packages == ["optimum"]


@pytest.mark.parametrize("text", ["gpu", "cuda:x", "cpu:8.9", "cuda:100.0", ""])
def test_a_malformed_device_is_refused(text):
    from automodel_cli.base.errors import BadInputError
    from automodel_cli.knowledge.quantization.machine import parse_device

    with pytest.raises(BadInputError, match="unknown --device"):
        parse_device(text)
