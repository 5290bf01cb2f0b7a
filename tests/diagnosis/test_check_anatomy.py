"""`amx check` constraints on a model's anatomy: max-active-parameters and max-kv-cache ("8GiB@32768"),
through the real entry point, against a real forward pass's cache and the published MoE figures."""

from __future__ import annotations

import json

from support import EXAMPLES
from support.preloaded import run_amx_preloaded
from support.real_cache import cache_bytes, kind_config


def _checks(result) -> dict[str, dict]:
    return {c["constraint"]: c for c in json.loads(result.stdout)["models"][0]["checks"]}


def test_max_active_parameters_reads_the_experts_per_token():
    mixtral = str(EXAMPLES / "mixtral-8x7b")  # 46.7B parameters, 12.9B active
    passed = run_amx_preloaded("check", mixtral, "--max-active-parameters", "13B", "--json")
    assert passed.returncode == 0, passed.stdout
    assert "2 of 8 experts" in _checks(passed)["max-active-parameters"]["message"]
    failed = run_amx_preloaded("check", mixtral, "--max-active-parameters", "12B")
    assert failed.returncode == 1 and "over max-active-parameters 12,000,000,000" in failed.stdout
    dense = run_amx_preloaded("check", str(EXAMPLES / "gpt2"), "--max-active-parameters", "100M", "--json")
    assert dense.returncode == 1 and "a dense model" in _checks(dense)["max-active-parameters"]["message"]


def test_max_kv_cache_is_the_cache_a_forward_pass_holds(tmp_path):
    import torch
    import transformers

    config = kind_config("hybrid")
    config.dtype = torch.float32
    transformers.AutoModelForCausalLM.from_config(config).save_pretrained(tmp_path)
    measured = cache_bytes(config, 64)
    manifest = tmp_path / "amx.toml"
    manifest.write_text(f'[[models]]\nmodel = "{tmp_path}"\nmax-kv-cache = "{measured}@64"\n')
    at_limit = run_amx_preloaded("check", "--manifest", str(manifest), "--json")
    assert at_limit.returncode == 0, at_limit.stdout
    assert f"takes {measured:,} bytes" in _checks(at_limit)["max-kv-cache"]["message"]
    over = run_amx_preloaded("check", str(tmp_path), "--max-kv-cache", f"{measured - 1}@64")
    assert over.returncode == 1 and "over max-kv-cache" in over.stdout


def test_a_malformed_kv_limit_is_bad_input():
    result = run_amx_preloaded("check", str(EXAMPLES / "gpt2"), "--max-kv-cache", "8GiB")
    assert result.returncode == 2 and 'bytes@tokens such as "8GiB@32768"' in result.stderr
    assert "Traceback" not in result.stderr
