"""`amx check`'s `loadable` and `max-loaded-memory` on quantized checkpoints, against real loads here."""

from __future__ import annotations

import json

from support import run_amx
from support.quantized_checkpoints import (
    backend_installed,
    held_bytes,
    real_load,
    write_quantized,
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
    human = run_amx("check", "--manifest", str(tmp_path / "amx.toml"))
    data = json.loads(run_amx("check", "--manifest", str(tmp_path / "amx.toml"), "--json").stdout)
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
    data = json.loads(run_amx("check", "--manifest", str(tmp_path / "amx.toml"), "--json").stdout)
    checks = {c["constraint"]: c for c in data["models"][0]["checks"]}
    assert checks["loadable"]["status"] == checks["max-loaded-memory"]["status"] == "pass"
    used = int(checks["max-loaded-memory"]["message"].split()[4].replace(",", ""))
    assert abs(used - footprint) / footprint < 0.01
