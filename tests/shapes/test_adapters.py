"""PEFT adapters: amx follows base_model_name_or_path as transformers does and answers for base + adapter.

The adapters are made at test time with peft on tiny models transformers saves; the ground truth is what
peft and transformers report when they really load them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.preloaded import run_amx_preloaded
from support.tiny_models import save_tiny, tiny_config

pytest.importorskip("peft")


def _lora(base: Path, auto_class: str, directory: Path, **lora) -> Path:
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    model = getattr(transformers, auto_class).from_pretrained(base)
    peft_model = get_peft_model(model, LoraConfig(**lora))
    with torch.no_grad():  # trained-looking weights: lora_B and biases start at zero, as dropped tensors do
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name or "modules_to_save" in name:
                parameter.normal_()
    peft_model.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def adapters(tmp_path_factory) -> dict[str, Path]:
    """A LoRA on a tiny causal LM, and a LoRA sequence classifier on a tiny BertModel (the classifier in
    modules_to_save, as peft puts it there for SEQ_CLS)."""
    root = tmp_path_factory.mktemp("adapters")
    llama = save_tiny("LlamaForCausalLM", tiny_config("llama"), root / "llama")
    bert = save_tiny("BertModel", tiny_config("bert"), root / "bert")
    return {
        "llama": llama,
        "bert": bert,
        "lora-llama": _lora(llama, "AutoModelForCausalLM", root / "lora-llama", task_type="CAUSAL_LM", r=4,
                            lora_alpha=8, target_modules=["q_proj", "v_proj"]),
        "lora-bert-cls": _lora(bert, "AutoModelForSequenceClassification", root / "lora-bert-cls",
                               task_type="SEQ_CLS", r=2, target_modules=["query", "value"]),
    }


def amx_json(*args: str, env: dict | None = None) -> dict:
    result = run_amx_preloaded(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_heads_of_a_causal_lm_adapter_are_the_base_heads(adapters):
    report = amx_json("heads", str(adapters["lora-llama"]))
    base = amx_json("heads", str(adapters["llama"]))
    assert [h["auto_class"] for h in report["heads"]] == [h["auto_class"] for h in base["heads"]]
    assert report["native_head"] == "AutoModelForCausalLM"
    assert report["adapter"]["peft_type"] == "LORA"
    assert report["adapter"]["task_type"] == "CAUSAL_LM"
    assert report["adapter"]["base_model"] == str(adapters["llama"])
    assert sorted(report["adapter"]["target_modules"]) == ["q_proj", "v_proj"]


def test_task_type_makes_the_native_head_and_the_saved_classifier_is_new_as_really_loaded(adapters,
                                                                                          classifier_load):
    """The classifier saved in modules_to_save is restored by transformers 5.18 and later; older 5.x
    releases drop it, and amx answers for the installed one."""
    really_new, _, _ = classifier_load
    result = run_amx_preloaded("heads", str(adapters["lora-bert-cls"]))
    assert result.returncode == 0, result.stderr
    assert "native head: AutoModelForSequenceClassification" in result.stdout
    report = amx_json("heads", str(adapters["lora-bert-cls"]))
    heads = {h["auto_class"]: h for h in report["heads"]}
    assert heads["AutoModelForSequenceClassification"]["native"]
    assert heads["AutoModelForSequenceClassification"]["new_weights"] is bool(really_new)
    assert "modules_to_save: classifier" in heads["AutoModelForSequenceClassification"]["note"]
    assert heads["AutoModelForTokenClassification"]["new_weights"] is True
    # The base alone (a BertModel checkpoint) has no native classifier.
    assert amx_json("heads", str(adapters["bert"]))["native_head"] != "AutoModelForSequenceClassification"


def _real_load(base: Path, adapter: Path, auto_class: str) -> tuple[set[str], list[str], int]:
    """What transformers really does with `AutoModelForXxx.from_pretrained(adapter)` (it follows the base
    and attaches the adapter with peft): the weights left newly initialised (those the base load reports
    missing minus those the adapter restored), the saved tensors it dropped (their values are nowhere in
    the model), and the adapter's parameter count. (With an adapter, output_loading_info reports the
    adapter's keys only, so the base load is asked separately.)"""
    import torch
    import transformers
    from safetensors.torch import load_file

    _, info = getattr(transformers, auto_class).from_pretrained(base, output_loading_info=True)
    model = getattr(transformers, auto_class).from_pretrained(adapter)
    saved = load_file(adapter / "adapter_model.safetensors")
    loaded = dict(model.named_parameters())

    def copy_of(saved_name: str) -> torch.Tensor | None:
        """The model's parameter the saved tensor loads into: `x.lora_A.weight` -> `x.lora_A.default.weight`,
        a modules_to_save `classifier.weight` -> `classifier.modules_to_save.default.weight`."""
        module, _, leaf = saved_name.removeprefix("base_model.model.").rpartition(".")
        return loaded.get(f"{module}.default.{leaf}", loaded.get(f"{module}.modules_to_save.default.{leaf}"))

    dropped = sorted(name for name, value in saved.items()
                     if (copy := copy_of(name)) is None or not torch.equal(copy, value))
    restored = {key for key in info["missing_keys"]
                if f"base_model.model.{key}" in saved and f"base_model.model.{key}" not in dropped}
    adapter_parameters = sum(value.numel() for name, value in loaded.items()
                             if ".lora_" in name or ".modules_to_save." in name)
    return set(info["missing_keys"]) - restored, dropped, adapter_parameters


@pytest.fixture(scope="session")
def classifier_load(adapters) -> tuple[set[str], list[str], int]:
    return _real_load(adapters["bert"], adapters["lora-bert-cls"], "AutoModelForSequenceClassification")


@pytest.mark.parametrize(("adapter", "base", "auto_class"), [
    ("lora-bert-cls", "bert", "AutoModelForSequenceClassification"),
    ("lora-bert-cls", "bert", "AutoModelForTokenClassification"),
    ("lora-llama", "llama", "AutoModelForCausalLM"),
    ("lora-llama", "llama", "AutoModelForSequenceClassification"),
])
def test_inspect_predicts_what_peft_really_loads(adapters, adapter, base, auto_class):
    import transformers

    new, dropped, adapter_parameters = _real_load(adapters[base], adapters[adapter], auto_class)
    base_parameters = getattr(transformers, auto_class).from_pretrained(adapters[base]).num_parameters()
    report = amx_json("inspect", str(adapters[adapter]), "--head", auto_class)
    assert set(report["head"]["missing_keys"]) == new
    assert sorted(report["adapter"]["dropped_tensors"]) == dropped
    assert report["adapter"]["num_parameters"] == adapter_parameters
    assert report["total_parameters"] == amx_json("inspect", str(adapters[base]))["total_parameters"]
    assert report["head"]["auto_class"] == auto_class
    assert report["adapter"]["missing_target_modules"] == []
    assert set(report["adapter"]) >= {"peft_type", "task_type", "base_model", "base_revision", "target_modules",
                                      "modules_to_save", "num_parameters"}
    assert report["head"]["num_parameters"] == base_parameters


def test_inspect_of_an_adapter_lists_its_tensors_human(adapters, classifier_load):
    really_new, dropped, _ = classifier_load
    result = run_amx_preloaded("inspect", str(adapters["lora-bert-cls"]))
    assert result.returncode == 0, result.stderr
    output = " ".join(result.stdout.split())  # notes wrap at the terminal's width
    assert "adapter LORA  r=2  alpha=8  task SEQ_CLS → AutoModelForSequenceClassification" in result.stdout
    assert "adapter parameters 611" in result.stdout
    assert "base_model.model.bert.encoder.layer.{0,1}.attention.self.query.lora_A.weight" in result.stdout
    assert "head AutoModelForSequenceClassification" in result.stdout
    if really_new:
        assert "classifier.weight" in output and f"drops {len(dropped)} of the adapter's 10 tensors" in output
    else:
        assert "every weight of this head is in the checkpoint" in output and "drops" not in output


def test_doctor_warns_of_adapter_tensors_transformers_drops(adapters, classifier_load):
    _, dropped, _ = classifier_load
    result = run_amx_preloaded("doctor", str(adapters["lora-bert-cls"]), "--json")
    finding = next((f for f in json.loads(result.stdout)["findings"] if f["code"] == "dropped-adapter-tensors"), None)
    if dropped:
        assert finding["severity"] == "warning" and sorted(finding["keys"]) == dropped
    else:
        assert finding is None


def test_heads_check_weights_counts_the_saved_classifier_as_really_loaded(adapters, classifier_load):
    really_new, _, _ = classifier_load
    report = amx_json("heads", str(adapters["lora-bert-cls"]), "--check-weights")
    heads = {h["auto_class"]: h for h in report["heads"]}
    assert heads["AutoModelForSequenceClassification"]["new_weights"] is bool(really_new)
    assert heads["AutoModelForMaskedLM"]["new_weights"] is True


@pytest.fixture(scope="session")
def wrong_targets(adapters, tmp_path_factory) -> Path:
    """The causal LM's LoRA, retargeted at modules no Llama has."""
    directory = tmp_path_factory.mktemp("wrong-targets")
    config = json.loads((adapters["lora-llama"] / "adapter_config.json").read_text())
    (directory / "adapter_config.json").write_text(json.dumps({**config, "target_modules": ["query", "value"]}))
    (directory / "adapter_model.safetensors").write_bytes(
        (adapters["lora-llama"] / "adapter_model.safetensors").read_bytes())
    return directory


def test_missing_target_modules_fail_as_peft_fails(adapters, wrong_targets):
    import transformers
    from peft import PeftModel

    model = transformers.AutoModelForCausalLM.from_pretrained(adapters["llama"])
    with pytest.raises(ValueError, match="not found in the base model"):
        PeftModel.from_pretrained(model, wrong_targets)

    report = amx_json("inspect", str(wrong_targets))
    assert report["adapter"]["missing_target_modules"] == ["query", "value"]
    doctor = run_amx_preloaded("doctor", str(wrong_targets), "--json")
    assert doctor.returncode == 1
    finding = next(f for f in json.loads(doctor.stdout)["findings"] if f["code"] == "missing-target-modules")
    assert finding["severity"] == "error" and finding["keys"] == ["query", "value"]
    human = run_amx_preloaded("doctor", str(wrong_targets))
    assert "missing-target-modules" in human.stdout and "not found in the base model" in human.stdout
    check = run_amx_preloaded("check", str(wrong_targets), "--head", "AutoModelForCausalLM", "--json")
    assert check.returncode == 1
    result = json.loads(check.stdout)["models"][0]
    assert result["status"] == "fail" and "target modules" in result["reason"]
    assert run_amx_preloaded("check", str(adapters["lora-llama"]), "--head", "AutoModelForCausalLM").returncode == 0


def _adapter_config(directory: Path, base: str, **extra) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "adapter_config.json").write_text(json.dumps(
        {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": base, "r": 4,
         "target_modules": ["q_proj"], **extra}))
    return directory


def test_a_base_that_is_missing_itself_or_an_adapter_is_one_clear_line(tmp_path):
    cases = {
        "missing": (_adapter_config(tmp_path / "a", str(tmp_path / "no-such-base")), "no such local directory"),
        "itself": (_adapter_config(tmp_path / "b", str(tmp_path / "b")), "names the adapter itself"),
        "chain": (_adapter_config(tmp_path / "c", str(_adapter_config(tmp_path / "d", str(tmp_path / "b")))),
                  "is itself an adapter"),
        "wrong-type": (_adapter_config(tmp_path / "e", "x", target_modules={"q": 1}), "target_modules must be"),
    }
    for name, (directory, message) in cases.items():
        for command in (["heads"], ["inspect"], ["source", "AutoModel"]):
            result = run_amx_preloaded(*command, str(directory))
            errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
            assert result.returncode in (1, 2) and len(errors) == 1, (name, command, result.stderr)
            assert message in errors[0] and "Traceback" not in result.stderr, (name, errors)
        doctor = run_amx_preloaded("doctor", str(directory), "--json")
        assert doctor.returncode in (1, 2), name
        if doctor.returncode == 1:
            assert json.loads(doctor.stdout)["findings"][0]["code"] == "adapter-base"


def test_an_adapter_on_the_local_hub_follows_its_hub_base(local_hub, adapters, tmp_path):
    local_hub.add_repo("amx-test/tiny-llama", adapters["llama"])
    config = json.loads((adapters["lora-llama"] / "adapter_config.json").read_text())
    local_hub.add_repo("amx-test/tiny-llama-lora", {
        "adapter_config.json": {**config, "base_model_name_or_path": "amx-test/tiny-llama"},
        "adapter_model.safetensors": adapters["lora-llama"] / "adapter_model.safetensors"})
    local_hub.add_repo("amx-test/lora-on-a-path", {
        "adapter_config.json": {**config, "base_model_name_or_path": str(adapters["llama"])}})
    env = local_hub.env(tmp_path)
    heads = amx_json("heads", "amx-test/tiny-llama-lora", env=env)
    assert heads["native_head"] == "AutoModelForCausalLM" and heads["adapter"]["base_model"] == "amx-test/tiny-llama"
    remote = amx_json("inspect", "amx-test/tiny-llama-lora", env=env)
    local = amx_json("inspect", str(adapters["lora-llama"]))
    assert remote["adapter"]["num_parameters"] == local["adapter"]["num_parameters"]
    assert remote["total_parameters"] == local["total_parameters"]
    assert remote["head"]["missing_keys"] == []
    refused = run_amx_preloaded("heads", "amx-test/lora-on-a-path", env=env)
    assert refused.returncode == 2 and "points outside the repository" in refused.stderr
    snapshots = {p.name for p in (tmp_path / "hub").glob("models--amx-test--tiny-llama*/snapshots/*/*")}
    assert snapshots == {"adapter_config.json", "config.json"}  # weights are never downloaded


def test_adapter_tensors_outside_target_modules_are_dropped_as_really_loaded(adapters, tmp_path):
    """target_modules ["q_proj", "nonexistent_proj"] over a file with q_proj and v_proj LoRA tensors: peft makes
    no layer for v_proj, so transformers drops its tensors as unexpected and loads the q_proj ones only."""
    config = json.loads((adapters["lora-llama"] / "adapter_config.json").read_text())
    (tmp_path / "adapter_config.json").write_text(
        json.dumps({**config, "target_modules": ["q_proj", "nonexistent_proj"]}))
    (tmp_path / "adapter_model.safetensors").write_bytes(
        (adapters["lora-llama"] / "adapter_model.safetensors").read_bytes())
    _, dropped, loaded_parameters = _real_load(adapters["llama"], tmp_path, "AutoModelForCausalLM")
    assert dropped and all(".v_proj." in name for name in dropped)

    adapter = amx_json("inspect", str(tmp_path))["adapter"]
    assert (adapter["dropped_tensors"], adapter["untargeted_tensors"]) == (dropped, dropped)
    assert adapter["loaded_parameters"] == loaded_parameters < adapter["num_parameters"]
    assert f"saved, {loaded_parameters:,} loaded" in run_amx_preloaded("inspect", str(tmp_path)).stdout
    doctor = run_amx_preloaded("doctor", str(tmp_path), "--json")
    assert doctor.returncode == 1
    findings = {f["code"]: f for f in json.loads(doctor.stdout)["findings"]}
    assert set(findings) == {"missing-target-modules", "untargeted-adapter-tensors"}
    assert findings["untargeted-adapter-tensors"]["keys"] == dropped
    assert findings["missing-target-modules"]["keys"] == ["nonexistent_proj"]
    human = run_amx_preloaded("doctor", str(tmp_path)).stdout
    assert "! untargeted-adapter-tensors: 4 of the adapter's 8 saved tensors" in human
    assert "nonexistent_proj: peft makes no adapter layer for them" in human and "weights would not" not in human
