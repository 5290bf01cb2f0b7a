"""`amx check`'s `loadable` and `max-loaded-memory` on quantized checkpoints, against real loads here."""

from __future__ import annotations

import json

from support.preloaded import run_amx_preloaded
from support.quantized_checkpoints import (
    backend_installed,
    held_bytes,
    real_load,
    write_quantized,
    write_quantized_config,
)


def test_loadable_and_max_loaded_memory(tmp_path):
    """Whatever this environment has: FP8 dequantizes (transformers 5.0: fails without triton), GPTQ fails
    without optimum, bitsandbytes 4-bit stays quantized with its backend and fails without it."""
    write_quantized("fp8", tmp_path / "fp8")
    write_quantized("gptq", tmp_path / "gptq")
    write_quantized("bnb-4bit", tmp_path / "bnb")
    fp8_error, fp8_model, _ = real_load(tmp_path / "fp8")
    bnb_error, bnb_model, _ = real_load(tmp_path / "bnb")
    (tmp_path / "amx.toml").write_text("".join(
        f'[[models]]\nmodel = "./{name}"\nloadable = true\nmax-loaded-memory = "150KiB"\n\n'
        for name in ("fp8", "gptq", "bnb")))
    human = run_amx_preloaded("check", "--manifest", str(tmp_path / "amx.toml"))
    data = json.loads(run_amx_preloaded("check", "--manifest", str(tmp_path / "amx.toml"), "--json").stdout)
    assert human.returncode == 1
    checks = {(m["model"], c["constraint"]): c for m in data["models"] for c in m["checks"]}
    if fp8_error is None:
        assert fp8_model.get_memory_footprint() > 150 * 1024  # the dequantized bfloat16 weights do not fit
        assert checks[("./fp8", "loadable")]["status"] == "pass"
        memory = checks[("./fp8", "max-loaded-memory")]
        assert memory["status"] == "fail" and "dequantized to bfloat16" in memory["message"]
        assert "over max-loaded-memory" in " ".join(human.stdout.split())
    else:  # transformers 5.0: its FP8 integration imports triton
        assert checks[("./fp8", "loadable")]["fix"] == "pip install 'triton'"
    assert checks[("./gptq", "loadable")]["status"] == "fail"
    assert checks[("./gptq", "loadable")]["fix"] == "pip install 'optimum'"
    assert "pip install 'optimum'" in human.stdout
    if backend_installed("bnb-4bit"):
        assert bnb_error is None
        memory = checks[("./bnb", "max-loaded-memory")]
        assert checks[("./bnb", "loadable")]["status"] == memory["status"] == "pass"
        assert "kept quantized by Bnb4BitHfQuantizer" in memory["message"]
        used = int(memory["message"].split()[4].replace(",", ""))
        assert abs(used - held_bytes(bnb_model)) / held_bytes(bnb_model) < 0.01
    else:
        assert isinstance(bnb_error, ImportError)
        assert checks[("./bnb", "loadable")]["status"] == "fail"
        assert checks[("./bnb", "loadable")]["fix"].startswith("pip install 'bitsandbytes>=")


def test_an_unquantized_model_is_loadable_and_measured_in_the_dtype_it_loads_in(tmp_path):
    from support.tiny_models import save_tiny, tiny_config
    from transformers import AutoModelForCausalLM

    save_tiny("LlamaForCausalLM", tiny_config("llama"), tmp_path / "llama")
    footprint = AutoModelForCausalLM.from_pretrained(tmp_path / "llama").get_memory_footprint()
    (tmp_path / "amx.toml").write_text(f'[[models]]\nmodel = "./llama"\nloadable = true\n'
                                       f'max-loaded-memory = {footprint}\n')
    data = json.loads(run_amx_preloaded("check", "--manifest", str(tmp_path / "amx.toml"), "--json").stdout)
    checks = {c["constraint"]: c for c in data["models"][0]["checks"]}
    assert checks["loadable"]["status"] == checks["max-loaded-memory"]["status"] == "pass"
    used = int(checks["max-loaded-memory"]["message"].split()[4].replace(",", ""))
    assert abs(used - footprint) / footprint < 0.01


def test_device_checks_loading_for_another_machine_with_the_packages_installed_here(tmp_path):
    from transformers import AutoConfig, AutoModelForCausalLM

    fp8 = write_quantized_config("fp8", tmp_path / "fp8")
    write_quantized_config("gptq", tmp_path / "gptq")
    (tmp_path / "amx.toml").write_text('[[models]]\nmodel = "./fp8"\nloadable = true\nmax-loaded-memory = "1GiB"\n\n'
                                       '[[models]]\nmodel = "./gptq"\nloadable = true\n')
    args = ("check", "--manifest", str(tmp_path / "amx.toml"), "--device", "cuda:8.9")
    human, machine = run_amx_preloaded(*args), run_amx_preloaded(*args, "--json")
    data = json.loads(machine.stdout)
    assert human.returncode == machine.returncode == 1 and data["device"] == "cuda:8.9"
    assert "checked for cuda:8.9, with the packages installed here" in " ".join(human.stdout.split())
    checks = {(m["model"], c["constraint"]): c for m in data["models"] for c in m["checks"]}
    # FP8 kernels run from compute capability 8.9: the weights stay quantized, whose memory is not predicted
    assert checks[("./fp8", "loadable")]["message"] == ("the fp8 checkpoint loads on cuda:8.9, quantized by "
                                                       "FineGrainedFP8HfQuantizer")
    assert checks[("./fp8", "max-loaded-memory")]["status"] == "error"
    gptq = checks[("./gptq", "loadable")]  # a GPU does not install optimum
    assert gptq["status"] == "fail" and "fails on cuda:8.9" in gptq["message"] and gptq["fix"] == "pip install 'optimum'"

    older = run_amx_preloaded("check", str(fp8), "--loadable", "--max-loaded-memory", "1GiB", "--device", "cuda:8.0", "--json")
    memory = {c["constraint"]: c for c in json.loads(older.stdout)["models"][0]["checks"]}["max-loaded-memory"]
    unpacked = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(fp8)).num_parameters()
    assert older.returncode == 0 and memory["status"] == "pass"
    assert f"take {unpacked * 2:,} bytes dequantized to bfloat16" in memory["message"]


def test_an_unknown_device_is_bad_input():
    result = run_amx_preloaded("check", "examples/gpt2", "--loadable", "--device", "tpu")
    assert result.returncode == 2 and "unknown --device 'tpu'" in result.stderr and "Traceback" not in result.stderr
