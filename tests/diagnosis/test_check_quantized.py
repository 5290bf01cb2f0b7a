"""`amx check`'s `loadable` and `max-loaded-memory` on quantized checkpoints, against real loads here."""

from __future__ import annotations

import json

from support import run_amx
from support.quantized_checkpoints import write_quantized


def test_loadable_and_max_loaded_memory(tmp_path):
    from transformers import AutoModelForCausalLM

    write_quantized("fp8", tmp_path / "fp8")
    write_quantized("gptq", tmp_path / "gptq")
    footprint = AutoModelForCausalLM.from_pretrained(tmp_path / "fp8").get_memory_footprint()
    (tmp_path / "amx.toml").write_text(
        '[[models]]\nmodel = "./fp8"\nloadable = true\nmax-loaded-memory = "150KiB"\n\n'
        '[[models]]\nmodel = "./gptq"\nloadable = true\n')
    human = run_amx("check", "--manifest", str(tmp_path / "amx.toml"))
    data = json.loads(run_amx("check", "--manifest", str(tmp_path / "amx.toml"), "--json").stdout)
    assert human.returncode == 1 and footprint > 150 * 1024  # the dequantized bfloat16 weights do not fit
    checks = {(m["model"], c["constraint"]): c for m in data["models"] for c in m["checks"]}
    assert checks[("./fp8", "loadable")]["status"] == "pass"
    memory = checks[("./fp8", "max-loaded-memory")]
    assert memory["status"] == "fail" and "dequantized to bfloat16" in memory["message"]
    assert checks[("./gptq", "loadable")]["status"] == "fail"
    assert checks[("./gptq", "loadable")]["fix"] == "pip install 'optimum'"
    assert "over max-loaded-memory" in " ".join(human.stdout.split())
    assert "pip install 'optimum'" in human.stdout


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
