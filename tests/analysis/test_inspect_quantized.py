"""`amx inspect` on quantized checkpoints: the load outcome and the loaded memory against a real load."""

from __future__ import annotations

import json

from support import run_amx
from support.quantized_checkpoints import write_gpt_oss_mxfp4, write_quantized


def inspect(directory) -> tuple[str, dict]:
    human = run_amx("inspect", str(directory))
    machine = run_amx("inspect", str(directory), "--json")
    assert human.returncode == machine.returncode == 0, human.stderr
    return human.stdout, json.loads(machine.stdout)


def test_a_dequantized_load_takes_the_memory_of_the_real_model(tmp_path):
    from transformers import AutoModelForCausalLM

    directory = write_quantized("fp8", tmp_path / "fp8")
    human, data = inspect(directory)
    model = AutoModelForCausalLM.from_pretrained(directory)
    q = data["quantization"]
    assert (q["load"], q["loaded_dtype"], q["quantizer"]) == ("dequantized", "bfloat16", "FineGrainedFP8HfQuantizer")
    assert abs(q["loaded_memory_bytes"] - model.get_memory_footprint()) / model.get_memory_footprint() < 0.01
    assert data["total_parameters"] == q["unpacked_parameters"] == model.num_parameters()
    assert q["unquantized_modules"] == ["lm_head"] and q["missing_packages"] == []
    # float8 weights with one float32 scale per 128x128 block: a little over 8 bits a weight
    assert 8 < q["bits_per_weight"] < 8.1
    assert "dequantized to bfloat16 by FineGrainedFP8HfQuantizer" in human
    assert "loaded here (dequantized, bfloat16)" in human


def test_a_failing_load_says_why_and_what_is_missing(tmp_path):
    directory = write_quantized("gptq", tmp_path / "gptq")
    human, data = inspect(directory)
    q = data["quantization"]
    assert (q["load"], q["loaded_memory_bytes"], q["missing_packages"]) == ("fails", None, ["optimum"])
    assert q["reason"].startswith("ImportError: ") and "optimum" in q["reason"]
    # 4-bit values, fp16 scales and int32 zeros for every 32 inputs, and g_idx: about 5 bits a weight
    assert 4 < q["bits_per_weight"] < 6
    assert "fails: ImportError" in human


def test_heads_of_a_dequantized_checkpoint_are_predicted_as_loaded(tmp_path):
    """FP8 dequantized here: each head's missing and unexpected weights equal a real load's."""
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    directory = write_quantized("fp8", tmp_path / "fp8")
    for auto_class in (AutoModelForCausalLM, AutoModelForSequenceClassification):
        data = json.loads(run_amx("inspect", str(directory), "--head", auto_class.__name__, "--json").stdout)
        _, info = auto_class.from_pretrained(directory, output_loading_info=True)
        assert data["head"]["missing_keys"] == sorted(info["missing_keys"])
        assert data["head"]["unexpected_keys"] == sorted(info["unexpected_keys"])
    checked = json.loads(run_amx("heads", str(directory), "--check-weights", "--json").stdout)
    new = {head["auto_class"]: head["new_weights"] for head in checked["heads"]}
    assert new["AutoModelForCausalLM"] is False and new["AutoModelForSequenceClassification"] is True


def test_heads_of_a_checkpoint_that_does_not_load_here_are_not_predicted(tmp_path):
    directory = write_quantized("gptq", tmp_path / "gptq")
    data = json.loads(run_amx("inspect", str(directory), "--json").stdout)
    assert data["head"]["missing_keys"] is None and "fails here" in data["head"]["note"]
    checked = json.loads(run_amx("heads", str(directory), "--check-weights", "--json").stdout)
    assert any("class-level guess" in note for note in checked["notes"])


def test_device_answers_for_another_machine_and_says_so(tmp_path):
    directory = write_quantized("fp8", tmp_path / "fp8")
    human = run_amx("inspect", str(directory), "--device", "cuda:8.9")
    data = json.loads(run_amx("inspect", str(directory), "--device", "cuda:8.9", "--json").stdout)
    q = data["quantization"]
    assert (q["load"], q["device"], q["loaded_memory_bytes"]) == ("quantized", "cuda:8.9", None)
    assert "kept quantized by FineGrainedFP8HfQuantizer" in human.stdout
    assert "on cuda:8.9, with the packages installed here" in " ".join(human.stdout.split())
    refused = run_amx("inspect", str(directory), "--device", "tpu")
    assert refused.returncode == 2 and refused.stderr.startswith("error: unknown --device 'tpu'")


def test_mxfp4_dequantized_without_triton_kernels(tmp_path):
    """gpt-oss's layout: the memory, the bits per weight and each head's prediction agree with real loads."""
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    directory = write_gpt_oss_mxfp4(tmp_path / "gpt-oss")
    human, data = inspect(directory)
    model = AutoModelForCausalLM.from_pretrained(directory)
    q = data["quantization"]
    assert (q["load"], q["loaded_dtype"], q["quantizer"]) == ("dequantized", "bfloat16", "Mxfp4HfQuantizer")
    assert abs(q["loaded_memory_bytes"] - model.get_memory_footprint()) / model.get_memory_footprint() < 0.01
    assert q["bits_per_weight"] == 4.25  # 4 bits a value and one 8-bit scale a block of 32
    assert data["total_parameters"] == model.num_parameters()
    for auto_class in (AutoModelForCausalLM, AutoModelForSequenceClassification):
        head = json.loads(run_amx("inspect", str(directory), "--head", auto_class.__name__, "--json").stdout)["head"]
        _, info = auto_class.from_pretrained(directory, output_loading_info=True)
        assert head["missing_keys"] == sorted(info["missing_keys"])
        assert head["unexpected_keys"] == sorted(info["unexpected_keys"])
        assert head["mismatched_keys"] == []
    assert "dequantized to bfloat16 by Mxfp4HfQuantizer" in human


def test_a_config_only_estimate_keeps_embeddings_unquantized():
    """GPTQ 4-bit without its weights: the linear layers at 4 bits, the embeddings and lm_head at float16."""
    data = json.loads(run_amx("inspect", "examples/wizard-vicuna-30b-gptq", "--json").stdout)
    embedding, total = data["embedding_parameters"], data["total_parameters"]
    assert data["checkpoint_dtype"] == "F16" and embedding == 2 * 32000 * 6656  # embed_tokens and lm_head
    assert data["memory_bytes"]["checkpoint"] == (total * 4 + 7) // 8 + embedding * 12 // 8
    assert data["quantization"]["load"] == "fails" and data["quantization"]["missing_packages"] == ["optimum"]
