"""The quantized releases in examples/ (config.json only): amx reads each quantization_config strictly and
says what the installed transformers does with it, compared with what `from_pretrained` itself runs
before it looks for the weights (`get_hf_quantizer`: the quantizer and its `validate_environment`)."""

from __future__ import annotations

import json

import pytest
from support import EXAMPLES
from support.preloaded import run_amx_preloaded

# example -> (method, bits, modules left unquantized)
RELEASES = {
    "deepseek-r1-fp8": ("fp8", 8, []),
    "gpt-oss-20b": ("mxfp4", 4, ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens",
                                 "lm_head"]),
    "qwen2.5-7b-instruct-awq": ("awq", 4, []),
    "llama-3.1-8b-instruct-w4a16": ("compressed-tensors", 4, ["lm_head"]),
    "llama-3.1-8b-instruct-nvfp4": ("modelopt", None, ["lm_head"]),  # 4-bit, but unknown to transformers
}


def what_transformers_does(directory) -> tuple[str, object]:
    """("fails", the exception) | ("skipped", None) | ("dequantized" or "quantized", the quantizer)."""
    from transformers import AutoConfig
    from transformers.quantizers.auto import get_hf_quantizer

    config = AutoConfig.from_pretrained(directory)
    try:
        quantizer, _, _ = get_hf_quantizer(config, None, None, True, {})  # from_pretrained passes its user_agent dict
    except Exception as error:  # noqa: BLE001 - the exception is what is compared
        return "fails", error
    if quantizer is None:
        return "skipped", None
    return ("dequantized" if getattr(quantizer.quantization_config, "dequantize", False) else "quantized"), quantizer


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_a_quantized_release_is_read_as_transformers_reads_it(name):
    import torch
    from transformers.quantizers.auto import AutoHfQuantizer

    from automodel_cli.knowledge.quantization.config import read_quantization
    from automodel_cli.knowledge.quantization.supported import supported_methods

    directory = EXAMPLES / name
    raw = json.loads((directory / "config.json").read_text())
    spec = read_quantization(raw)  # strict: a malformed field is a ConfigError
    method, bits, unquantized = RELEASES[name]
    assert (spec.method, spec.bits, spec.skipped_modules) == (method, bits, unquantized)
    assert AutoHfQuantizer.supports_quant_method(raw["quantization_config"]) == (method in supported_methods())

    data = json.loads(run_amx_preloaded("inspect", str(directory), "--json").stdout)
    q = data["quantization"]
    assert (q["method"], q["bits"], q["unquantized_modules"]) == (method, bits, unquantized)
    assert q["unpacked_parameters"] == data["total_parameters"]
    outcome, detail = what_transformers_does(directory)
    if outcome == "fails":
        assert q["load"] == "fails" and q["reason"] == f"{type(detail).__name__}: {str(detail).splitlines()[0]}"
        assert q["missing_packages"] and all(p.partition(">")[0] in str(detail) for p in q["missing_packages"])
    elif outcome == "skipped":  # the packed tensors would load as plain weights
        assert (q["load"], q["quantizer"]) == ("fails", None) and "unknown to the installed transformers" in q["reason"]
    else:
        assert (q["load"], q["quantizer"]) == (outcome, type(detail).__name__)
        if "torch_dtype" in raw:
            loaded = str(detail.update_dtype(getattr(torch, raw["torch_dtype"]))).removeprefix("torch.")
            assert q["loaded_dtype"] == loaded
            # dequantized: every parameter in that dtype; kept quantized, the packed parts are in the weights
            # this config-only release does not have
            memory = data["memory_bytes"][loaded] if outcome == "dequantized" else None
            assert q["loaded_memory_bytes"] == memory
        else:  # dtype="auto" would take the checkpoint's float dtype, and there is no checkpoint
            assert q["loaded_dtype"] is None and q["loaded_memory_bytes"] is None
