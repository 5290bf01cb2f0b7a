"""`amx inspect` on quantized checkpoints: the load outcome and the loaded memory against a real load.

Whatever this environment has: .ci/run's .venv has the CPU backends (bitsandbytes, compressed-tensors),
its oldest virtualenv neither, and transformers 5.0's FP8 integration needs triton even to dequantize.
Each case asks a real `from_pretrained` first, and which backend is installed decides what it must do.
"""

from __future__ import annotations

import json

import pytest
from support.preloaded import run_amx_preloaded
from support.quantized_checkpoints import (
    backend_installed,
    held_bytes,
    kept_quantized,
    real_load,
    write_gpt_oss_mxfp4,
    write_quantized,
)
from typer.testing import CliRunner

from automodel_cli.base.units import human_bytes
from automodel_cli.cli import app

KEPT_QUANTIZED_ON_CPU = ["bnb-4bit", "bnb-8bit", "compressed-tensors"]


def amx_json(*args: str) -> dict:
    """The CLI in this process: the subprocess is not what most cases here test, and it costs seconds each
    (test_device_answers_for_another_machine_and_says_so runs the real entry point)."""
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def inspect(*args: str) -> tuple[str, dict]:
    human = CliRunner().invoke(app, ["inspect", *map(str, args)])
    assert human.exit_code == 0, human.output
    return human.stdout, amx_json("inspect", *map(str, args))


def assert_fails_as_the_real_load(quantization: dict, error: Exception) -> None:
    assert quantization["load"] == "fails" and quantization["loaded_memory_bytes"] is None
    assert quantization["reason"] == f"{type(error).__name__}: {str(error).strip().splitlines()[0]}"
    assert quantization["missing_packages"]
    assert all(package.partition(">")[0] in str(error).replace("`", "") for package in quantization["missing_packages"])


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    root = tmp_path_factory.mktemp("kept-quantized")
    return {layout: write_quantized(layout, root / layout) for layout in KEPT_QUANTIZED_ON_CPU}


@pytest.mark.parametrize("layout", KEPT_QUANTIZED_ON_CPU)
def test_a_load_kept_quantized_takes_what_the_real_model_holds(kept, layout):
    """With its backend, the weights stay quantized and the memory is what the loaded model holds
    (parameters, buffers and bitsandbytes' quant state), within 1%; without it, the load fails as amx says."""
    human, data = inspect(str(kept[layout]))
    q = data["quantization"]
    error, model, _ = real_load(kept[layout])
    if not backend_installed(layout):
        assert isinstance(error, ImportError)
        assert_fails_as_the_real_load(q, error)
        assert "fails: ImportError" in human
        return
    assert error is None and kept_quantized(model)
    assert (q["load"], q["loaded_dtype"], q["missing_packages"]) == ("quantized", "bfloat16", [])
    held = held_bytes(model)
    assert abs(q["loaded_memory_bytes"] - held) / held < 0.01
    assert q["loaded_memory_bytes"] < q["unpacked_parameters"] * 2  # less than the bfloat16 model
    assert f"kept quantized by {q['quantizer']}: {human_bytes(q['loaded_memory_bytes'])}" in human
    assert "loaded here (quantized, the rest bfloat16)" in human


@pytest.mark.parametrize("layout", KEPT_QUANTIZED_ON_CPU)
def test_heads_of_a_load_kept_quantized_are_those_of_the_real_load(kept, layout):
    """Each head's missing, unexpected and mismatched weights and its memory against a real load's, where the
    load works; compressed-tensors names a new weight by its packed parameters, so amx says it does not."""
    directory = str(kept[layout])
    for auto_class in ("AutoModelForCausalLM", "AutoModelForSequenceClassification", "AutoModel"):
        data = inspect(directory, "--head", auto_class)[1]
        head = data["head"]
        error, model, info = real_load(kept[layout], auto_class)
        if error is not None:
            assert not backend_installed(layout)
            assert head["missing_keys"] is None and "fails here" in head["note"]
            continue
        # the memory of the class loaded: the base model's names lack the checkpoint's `model.` prefix
        assert abs(data["quantization"]["loaded_memory_bytes"] - held_bytes(model)) / held_bytes(model) < 0.01
        missing = sorted(info["missing_keys"])
        if head["missing_keys"] is None:  # the real load names new weights by the quantized layer's parameters
            assert layout == "compressed-tensors" and missing and "score.weight" not in missing
            assert "names of its quantized layers' parameters" in head["note"]
            continue
        assert head["missing_keys"] == missing
        assert head["unexpected_keys"] == sorted(info["unexpected_keys"]) and head["mismatched_keys"] == []
    checked = amx_json("heads", directory, "--check-weights")
    new = {head["auto_class"]: head["new_weights"] for head in checked["heads"]}
    if backend_installed(layout):
        assert new["AutoModelForCausalLM"] is False and new["AutoModelForSequenceClassification"] is True
    else:
        assert any("class-level guess" in note for note in checked["notes"])


def test_a_dequantized_load_takes_the_memory_of_the_real_model(tmp_path):
    directory = write_quantized("fp8", tmp_path / "fp8")
    human, data = inspect(directory)
    error, model, _ = real_load(directory)
    q = data["quantization"]
    if error is not None:  # transformers 5.0: its FP8 integration imports triton
        assert_fails_as_the_real_load(q, error)
        return
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
        data = amx_json("inspect", str(directory), "--head", auto_class.__name__)
        error, _, info = real_load(directory, auto_class.__name__)
        if error is not None:  # transformers 5.0: its FP8 integration imports triton
            assert data["head"]["missing_keys"] is None and "fails here" in data["head"]["note"]
            return
        assert data["head"]["missing_keys"] == sorted(info["missing_keys"])
        assert data["head"]["unexpected_keys"] == sorted(info["unexpected_keys"])
    checked = amx_json("heads", str(directory), "--check-weights")
    new = {head["auto_class"]: head["new_weights"] for head in checked["heads"]}
    assert new["AutoModelForCausalLM"] is False and new["AutoModelForSequenceClassification"] is True


def test_heads_of_a_checkpoint_that_does_not_load_here_are_not_predicted(tmp_path):
    directory = write_quantized("gptq", tmp_path / "gptq")
    data = amx_json("inspect", str(directory))
    assert data["head"]["missing_keys"] is None and "fails here" in data["head"]["note"]
    checked = amx_json("heads", str(directory), "--check-weights")
    assert any("class-level guess" in note for note in checked["notes"])


def test_device_answers_for_another_machine_and_says_so(tmp_path):
    directory = write_quantized("fp8", tmp_path / "fp8")
    human = run_amx_preloaded("inspect", str(directory), "--device", "cuda:8.9")
    data = amx_json("inspect", str(directory), "--device", "cuda:8.9")
    q = data["quantization"]
    if real_load(directory)[0] is not None:  # transformers 5.0: its FP8 integration imports triton, on any device
        assert (q["load"], q["device"], q["missing_packages"]) == ("fails", "cuda:8.9", ["triton"])
    else:
        assert (q["load"], q["device"], q["loaded_memory_bytes"]) == ("quantized", "cuda:8.9", None)
        assert "kept quantized by FineGrainedFP8HfQuantizer" in human.stdout
    assert "on cuda:8.9, with the packages installed here" in " ".join(human.stdout.split())
    refused = run_amx_preloaded("inspect", str(directory), "--device", "tpu")
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
        head = amx_json("inspect", str(directory), "--head", auto_class.__name__)["head"]
        _, info = auto_class.from_pretrained(directory, output_loading_info=True)
        assert head["missing_keys"] == sorted(info["missing_keys"])
        assert head["unexpected_keys"] == sorted(info["unexpected_keys"])
        assert head["mismatched_keys"] == []
    assert "dequantized to bfloat16 by Mxfp4HfQuantizer" in human


def test_a_config_only_estimate_keeps_embeddings_unquantized():
    """GPTQ 4-bit without its weights: the linear layers at 4 bits, the embeddings and lm_head at float16."""
    data = amx_json("inspect", "examples/wizard-vicuna-30b-gptq")
    embedding, total = data["embedding_parameters"], data["total_parameters"]
    assert data["checkpoint_dtype"] == "F16" and embedding == 2 * 32000 * 6656  # embed_tokens and lm_head
    assert data["memory_bytes"]["checkpoint"] == (total * 4 + 7) // 8 + embedding * 12 // 8
    assert data["quantization"]["load"] == "fails" and data["quantization"]["missing_packages"] == ["optimum"]


def test_a_torchao_checkpoint_is_read_from_its_headers(tmp_path):
    """torchao's flattened Int8Tensor parts make one weight each: 8 bits a value, a float32 scale and an int8
    zero point a row. torchao is in neither test environment: the load fails as the real one does."""
    directory = write_quantized("torchao-int8", tmp_path / "torchao")
    human, data = inspect(directory)
    q = data["quantization"]
    error, _, _ = real_load(directory)
    assert (q["method"], q["bits"], q["quantizer"]) == ("torchao", 8, "TorchAoHfQuantizer")
    shapes = {t["name"]: t["shape"] for t in data["parameters"]}
    weights = sum(shape[0] * shape[1] for name, shape in shapes.items() if name.endswith("._weight_qdata"))
    rows = sum(shape[0] for name, shape in shapes.items() if name.endswith("._weight_scale"))
    assert q["bits_per_weight"] == round((weights * 8 + rows * (32 + 8)) / weights, 2)
    assert data["total_parameters"] == q["unpacked_parameters"]
    assert not backend_installed("torchao-int8")
    assert_fails_as_the_real_load(q, error)
    assert q["missing_packages"] == ["torchao"]
