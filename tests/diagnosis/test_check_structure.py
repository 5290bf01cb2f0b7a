"""`structure = "sha256:..."` in an `amx check` manifest: CI fails when the model behind a name changes shape."""

from __future__ import annotations

import json

from support.preloaded import run_amx_preloaded
from support.tiny_models import save_tiny, tiny_config

REPO = "amx-test/pinned-llama"


def _manifest(tmp_path, structure: str):
    manifest = tmp_path / "amx.toml"
    manifest.write_text(f'[[models]]\nmodel = "{REPO}"\nheads = ["AutoModelForCausalLM"]\nstructure = "{structure}"\n')
    return manifest


def _check(manifest, env) -> tuple[int, dict]:
    result = run_amx_preloaded("check", "--manifest", str(manifest), "--json", env=env)
    (model,) = json.loads(result.stdout)["models"]
    (check,) = [c for c in model["checks"] if c["constraint"] == "structure"]
    return result.returncode, check


def test_the_pin_holds_over_new_weights_and_fails_on_a_new_shape(local_hub, tmp_path):
    import torch
    from transformers import LlamaForCausalLM

    original = save_tiny("LlamaForCausalLM", tiny_config("llama"), tmp_path / "original")
    local_hub.add_repo(REPO, original)
    env = local_hub.env()
    digest = json.loads(run_amx_preloaded("inspect", REPO, "--json", env=env).stdout)["structure_digest"]
    manifest = _manifest(tmp_path, digest)
    code, check = _check(manifest, env)
    assert (code, check["status"]) == (0, "pass")

    model = LlamaForCausalLM.from_pretrained(original)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.mul_(2)
    model.save_pretrained(tmp_path / "retrained")
    local_hub.add_repo(REPO, tmp_path / "retrained")
    code, check = _check(manifest, env)
    assert (code, check["status"]) == (0, "pass")

    local_hub.add_repo(REPO, save_tiny("LlamaForCausalLM", tiny_config("llama", vocab_size=120), tmp_path / "resized"))
    code, check = _check(manifest, env)
    assert (code, check["status"]) == (1, "fail")
    assert digest in check["message"] and "amx diff" in check["fix"]
    human = run_amx_preloaded("check", "--manifest", str(manifest), env=env)
    assert human.returncode == 1 and "the structure changed" in human.stdout


def test_a_malformed_pin_is_bad_input(tmp_path):
    result = run_amx_preloaded("check", "--manifest", str(_manifest(tmp_path, "sha256:abc")))
    assert result.returncode == 2
    assert "structure: must be a structure_digest" in result.stderr
