"""`amx doctor` on quantized checkpoints: no false ✓. Each verdict is checked against a real
`from_pretrained` of a tiny checkpoint in the method's real layout, on this machine, whatever backends it
has (.ci/run's .venv has bitsandbytes and compressed-tensors, its oldest virtualenv neither)."""

from __future__ import annotations

import json

import pytest
from support.preloaded import run_amx_preloaded
from support.quantized_checkpoints import backend_installed, real_load, write_quantized, write_quantized_config
from typer.testing import CliRunner

from automodel_cli.cli import app


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("quantized-doctor")


def doctor(directory) -> tuple[int, str, dict]:
    """The CLI in this process: the subprocess costs seconds a call (test_device_asks_for_another_machine
    runs the real entry point)."""
    runner = CliRunner()
    human, machine = runner.invoke(app, ["doctor", str(directory)]), runner.invoke(app, ["doctor", str(directory), "--json"])
    assert human.exit_code == machine.exit_code, human.output
    return human.exit_code, human.stdout, json.loads(machine.stdout)


def raises_here(directory) -> Exception | None:
    return real_load(directory)[0]


@pytest.mark.parametrize("layout, package", [("gptq", "optimum"), ("bnb-4bit", "bitsandbytes>="),
                                             ("compressed-tensors", "compressed-tensors")])
def test_a_load_that_raises_fails_naming_what_to_install(root, layout, package):
    """Without its backend the load raises and doctor fails naming it; with it, the load works and doctor
    passes (bitsandbytes and compressed-tensors run on CPU)."""
    directory = write_quantized(layout, root / layout)
    error = raises_here(directory)
    code, human, data = doctor(directory)
    if backend_installed(layout):
        assert error is None
        assert code == 0 and data["verdict"] == "ok" and "✓" in human
        assert not [f for f in data["findings"] if f["code"].startswith("quantization")]
        return
    assert isinstance(error, ImportError)
    assert code == 1 and data["verdict"] == "fail"
    finding = next(f for f in data["findings"] if f["code"] == "quantization-fails")
    assert finding["severity"] == "error" and finding["fix"].startswith(f"pip install '{package}")
    assert "✗ quantization-fails" in human and f"pip install '{package}" in human


def test_a_dequantizing_load_warns_with_the_memory_it_takes(root):
    directory = write_quantized("fp8", root / "fp8")
    error = raises_here(directory)
    code, human, data = doctor(directory)
    if error is not None:  # transformers 5.0: its FP8 integration imports triton, even to dequantize
        finding = next(f for f in data["findings"] if f["code"] == "quantization-fails")
        assert code == 1 and isinstance(error, ModuleNotFoundError) and finding["fix"] == "pip install 'triton'"
        return
    assert code == 1 and data["verdict"] == "warn"
    finding = next(f for f in data["findings"] if f["code"] == "dequantized-load")
    assert "bfloat16" in finding["message"] and "176.6 KiB" in finding["message"]
    assert "dequantized-load" in human and "176.6 KiB" in human


def test_an_unknown_quant_method_fails_listing_the_supported_ones(root):
    directory = write_quantized("modelopt-nvfp4", root / "modelopt")
    assert "ignore_mismatched_sizes" in str(raises_here(directory))  # the packed shapes do not fit
    code, human, data = doctor(directory)
    assert code == 1 and data["verdict"] == "fail"
    finding = next(f for f in data["findings"] if f["code"] == "unknown-quant-method")
    assert "'modelopt'" in finding["message"] and "compressed-tensors" in finding["fix"]
    assert "unknown-quant-method" in human


def test_a_method_name_with_control_characters_is_shown_escaped(root):
    directory = write_quantized("modelopt-nvfp4", root / "evil")
    raw = json.loads((directory / "config.json").read_text())
    raw["quantization_config"]["quant_method"] = "x\x1b[2Jy"
    (directory / "config.json").write_text(json.dumps(raw))
    code, human, data = doctor(directory)
    assert code == 1 and "\x1b" not in human and "\\x1b" in human
    assert any("'x\\x1b[2Jy'" in f["message"] for f in data["findings"])


def test_device_asks_for_another_machine(root):
    directory = write_quantized("fp8", root / "fp8-device")
    if raises_here(directory) is not None:  # transformers 5.0: no triton here, so on no device either
        data = json.loads(run_amx_preloaded("doctor", str(directory), "--device", "cuda:8.9", "--json").stdout)
        assert data["verdict"] == "fail" and "quantization checked for cuda:8.9, with the packages installed here" \
            in data["notes"]
        return
    human = run_amx_preloaded("doctor", str(directory), "--device", "cuda:8.9")
    data = json.loads(run_amx_preloaded("doctor", str(directory), "--device", "cuda:8.9", "--json").stdout)
    assert human.returncode == 0 and data["verdict"] == "ok"  # FP8 kernels from compute capability 8.9 on
    assert "quantization checked for cuda:8.9, with the packages installed here" in data["notes"]
    older = json.loads(run_amx_preloaded("doctor", str(directory), "--device", "cuda:8.0", "--json").stdout)
    assert [f["code"] for f in older["findings"]] == ["dequantized-load"]
    assert "on cuda:8.0" in older["findings"][0]["message"]
    misplaced = run_amx_preloaded("doctor", "--error", "x", "--device", "cuda")
    assert misplaced.returncode == 2 and "--device applies to a MODEL" in misplaced.stderr


def test_doctor_head_of_a_load_kept_quantized_names_the_real_loads_new_and_unused_weights(root):
    """bitsandbytes 4-bit with a classification head: with the backend, doctor's new and unused weights are
    the real load's missing and unexpected keys; without it, the load fails and doctor says so."""
    directory = write_quantized("bnb-4bit", root / "bnb-head")
    error, _, info = real_load(directory, "AutoModelForSequenceClassification")
    result = CliRunner().invoke(app, ["doctor", str(directory), "--head", "AutoModelForSequenceClassification", "--json"])
    findings = {f["code"]: f for f in json.loads(result.stdout)["findings"]}
    if not backend_installed("bnb-4bit"):
        assert isinstance(error, ImportError) and result.exit_code == 1 and "quantization-fails" in findings
        return
    assert error is None and info["missing_keys"] and info["unexpected_keys"]
    assert result.exit_code == 1 and set(findings) == {"new-weights", "unused-weights"}
    assert all(key in findings["new-weights"]["message"] for key in info["missing_keys"])
    assert all(key in findings["unused-weights"]["message"] for key in info["unexpected_keys"])


@pytest.mark.parametrize("layout, first, then", [("gptq", "quantization-fails", "no-weights"),
                                                 ("fp8", "no-weights", "dequantized-load"),
                                                 ("modelopt-nvfp4", "no-weights", "unknown-quant-method")])
def test_without_weights_the_quantization_is_checked_in_the_order_the_load_meets_it(root, layout, first, then):
    """from_pretrained runs the quantizer's checks before it looks for the weights; an unknown method is
    skipped with a warning, so its load fails on the missing weights first."""
    from automodel_cli.diagnosis.doctor import diagnose_model
    from automodel_cli.knowledge.head_index import load_index

    directory = write_quantized_config(layout, root / f"config-only-{layout}")
    raised = raises_here(directory)
    report = diagnose_model(str(directory), load_index())
    assert [finding.code for finding in report.findings] == [first, then] and report.verdict == "fail"
    real_first = "quantization-fails" if isinstance(raised, ImportError) else "no-weights"
    assert isinstance(raised, (ImportError, OSError)) and real_first == first
    if first == "quantization-fails":
        assert str(raised) in report.findings[0].message
    else:
        assert "no file named model.safetensors" in str(raised)


def test_a_config_only_release_reports_its_quantization_beside_the_missing_weights():
    human = run_amx_preloaded("doctor", "examples/deepseek-r1-fp8")
    data = json.loads(run_amx_preloaded("doctor", "examples/deepseek-r1-fp8", "--json").stdout)
    assert human.returncode == 1 and data["verdict"] == "fail"
    codes = [finding["code"] for finding in data["findings"]]
    assert codes[:2] == ["no-weights", "dequantized-load"]
    # 671B parameters dequantized to bfloat16, against the 8-bit estimate of what is stored
    assert "to bfloat16" in data["findings"][1]["message"] and "take 1.2 TiB, against an estimated 626.7 GiB" \
        in data["findings"][1]["message"]
    assert "! dequantized-load" in human.stdout and "1.2 TiB" in human.stdout


def test_without_weights_or_a_dtype_the_dequantized_memory_is_not_guessed(root):
    """dtype="auto" takes the checkpoint's float dtype when config.json names none: a config-only model
    cannot say it, so doctor warns of the dequantization without a figure."""
    from automodel_cli.diagnosis.doctor import diagnose_model
    from automodel_cli.knowledge.head_index import load_index

    directory = write_quantized_config("fp8", root / "config-only-no-dtype")
    raw = json.loads((directory / "config.json").read_text())
    del raw["dtype"]
    (directory / "config.json").write_text(json.dumps(raw))
    finding = next(f for f in diagnose_model(str(directory), load_index()).findings if f.code == "dequantized-load")
    assert "to bfloat16" not in finding.message and "memory is not known without the weights" in finding.message
