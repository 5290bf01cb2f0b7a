"""`amx check`: pass / fail / could-not-check per model, exit codes, outputs, CI examples and the Python API."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from support import EXAMPLES, PROJECT_ROOT
from support.preloaded import run_amx_preloaded
from typer.testing import CliRunner

from automodel_cli.base.errors import ManifestError
from automodel_cli.cli import app
from automodel_cli.diagnosis.check import check_models
from automodel_cli.diagnosis.manifest import MEMORY_DTYPES
from automodel_cli.knowledge.head_index import load_index

runner = CliRunner()


def only(report):
    (result,) = report.models
    return result


def statuses(result) -> dict[str, str]:
    return {check.constraint: check.status for check in result.checks}


def write_config(directory: Path, **config) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    return directory


@pytest.fixture
def remote_only(tmp_path) -> Path:
    """A model_type transformers does not know, loadable only through its auto_map."""
    return write_config(tmp_path / "remote", model_type="my-remote", architectures=["MyModel"],
                        auto_map={"AutoConfig": "configuration_my.MyConfig", "AutoModelForCausalLM": "modeling_my.MyModel"})


def test_every_relied_on_head_passes():
    report = check_models([{"model": str(EXAMPLES / "bert-ner"),
                            "heads": ["AutoModelForTokenClassification", "AutoModel"],
                            "native-head": "AutoModelForTokenClassification"}])
    result = only(report)
    assert (result.status, report.exit_code, report.passed) == ("pass", 0, 1)
    assert [c.message for c in result.checks] == [
        "AutoModelForTokenClassification builds BertForTokenClassification",
        "AutoModel builds BertModel",
        "the checkpoint was trained for AutoModelForTokenClassification",
    ]
    assert (result.model_type, result.native_head, result.reason) == ("bert", "AutoModelForTokenClassification", "")


def test_a_head_the_model_does_not_support_fails_with_a_fix():
    result = only(check_models([{"model": str(EXAMPLES / "vit-base-patch16-224"), "heads": ["AutoModelForCausalLM"]}]))
    assert result.status == "fail"
    assert result.reason.startswith("AutoModelForCausalLM cannot load vit in transformers 5.")
    assert result.fix.startswith("load it with AutoModelForImageClassification, ")


def test_a_changed_checkpoint_head_fails_the_native_head_constraint():
    result = only(check_models([{"model": str(EXAMPLES / "bert-base-uncased"),
                                 "heads": ["AutoModelForTokenClassification"],
                                 "native-head": "AutoModelForTokenClassification"}]))
    assert statuses(result) == {"heads": "pass", "native-head": "fail"}
    assert result.reason == ("the checkpoint was trained for AutoModelForMaskedLM (BertForMaskedLM), "
                             "not AutoModelForTokenClassification")
    assert result.notes == ["AutoModelForTokenClassification starts with newly initialised head weights: "
                            "the checkpoint is BertForMaskedLM"]


def test_native_head_of_a_config_without_architectures_fails(tmp_path):
    model = write_config(tmp_path / "m", model_type="bert")
    result = only(check_models([{"model": str(model), "native-head": "AutoModelForMaskedLM"}]))
    assert result.status == "fail"
    assert result.reason == "no native head (config.json lists no architectures), AutoModelForMaskedLM required"


def test_remote_code_forbidden_fails_and_allowed_passes_with_a_note(remote_only):
    entry = {"model": str(remote_only), "heads": ["AutoModelForCausalLM"]}
    forbidden = only(check_models([{**entry, "allow-remote-code": False}]))
    assert statuses(forbidden) == {"heads": "pass", "allow-remote-code": "fail"}
    assert forbidden.reason == "AutoModelForCausalLM needs the repository's own code (auto_map)"
    allowed = only(check_models([entry]))
    assert allowed.status == "pass"
    assert allowed.notes == ["AutoModelForCausalLM runs the repository's code (modeling_my.MyModel): "
                             "needs trust_remote_code=True"]
    without_heads = only(check_models([{"model": str(remote_only), "allow-remote-code": False}]))
    assert without_heads.reason == "model_type 'my-remote' needs the repository's own code (auto_map)"


def test_known_model_type_with_auto_map_needs_no_remote_code():
    result = only(check_models([{"model": str(EXAMPLES / "mpt-7b-instruct-remote"), "heads": ["AutoModelForCausalLM"],
                                 "allow-remote-code": False}]))
    assert result.status == "pass" and statuses(result)["allow-remote-code"] == "pass"


def test_unknown_model_type_fails_naming_transformers(tmp_path):
    model = write_config(tmp_path / "m", model_type="no-such-model", architectures=["X"])
    result = only(check_models([{"model": str(model), "heads": ["AutoModel"]}]))
    assert result.status == "fail"
    assert "'no-such-model' is not known to the installed transformers 5." in result.reason
    assert "upgrade transformers" in result.fix


def test_missing_model_fails_and_unreadable_or_unreachable_ones_are_not_checked(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    untyped = write_config(tmp_path / "untyped", architectures=["BertModel"])
    report = check_models([str(tmp_path / "gone"), str(broken), str(untyped), "org/never-downloaded"])
    gone, bad_json, no_type, offline = report.models
    assert (gone.status, gone.checks[0].constraint) == ("fail", "model")
    assert gone.reason.startswith("no such local directory") and gone.fix
    assert bad_json.status == "error" and bad_json.reason.startswith("could not check: ")
    assert "not valid JSON" in bad_json.reason
    assert no_type.status == "error" and "no model_type" in no_type.reason
    assert offline.status == "error" and "HF_HUB_OFFLINE is set" in offline.reason
    assert (report.passed, report.failed, report.errors, report.exit_code) == (0, 1, 3, 1)
    assert check_models([str(broken)]).exit_code == 3


def test_transformers_version_bounds():
    gpt2 = str(EXAMPLES / "gpt2")
    within = only(check_models([{"model": gpt2, "min-transformers": "5.0", "max-transformers": "5"}]))
    assert statuses(within) == {"heads": "pass", "min-transformers": "pass", "max-transformers": "pass"}
    too_old = only(check_models([{"model": gpt2, "min-transformers": "99"}]))
    assert too_old.reason.endswith("is older than min-transformers 99")
    assert too_old.fix == "pip install -U 'transformers>=99'"
    too_new = only(check_models([{"model": gpt2, "max-transformers": "4.57"}]))
    assert too_new.reason.endswith("is newer than max-transformers 4.57")


def test_a_config_saved_by_a_newer_transformers_gets_a_note(tmp_path):
    model = write_config(tmp_path / "m", model_type="gpt2", architectures=["GPT2LMHeadModel"],
                         transformers_version="99.0.0")
    result = only(check_models([str(model)]))
    assert result.status == "pass"
    assert result.notes == [f"config.json was saved by transformers 99.0.0, newer than the installed "
                            f"{check_models([str(model)]).transformers_version}"]


def test_parameters_and_memory_of_a_safetensors_checkpoint(tiny_bert_dir):
    from automodel_cli.analysis.inspection import inspect_model
    from automodel_cli.files.reference import resolve_config

    inspected = inspect_model(resolve_config(str(tiny_bert_dir)))
    total, fp32 = inspected.total_parameters, inspected.memory_bytes["float32"]
    entry = {"model": str(tiny_bert_dir), "heads": ["AutoModelForSequenceClassification"], "require-safetensors": True}
    fits = only(check_models([{**entry, "max-parameters": total, "max-memory": fp32, "dtype": "float32"}]))
    assert fits.status == "pass", fits.reason
    assert [c.message for c in fits.checks[1:]] == [
        f"{total:,} parameters, within max-parameters {total:,}",
        f"the weights take {fp32:,} bytes in float32, within max-memory {fp32:,}",
        "the weights are safetensors",
    ]
    too_big = only(check_models([{**entry, "max-parameters": total - 1, "max-memory": fp32 - 1}]))
    assert statuses(too_big) == {"heads": "pass", "max-parameters": "fail", "max-memory": "fail",
                                 "require-safetensors": "pass"}
    assert too_big.reason == f"{total:,} parameters, over max-parameters {total - 1:,}"
    assert too_big.checks[2].message.startswith(f"the weights take {inspected.memory_bytes['checkpoint']:,} bytes "
                                                f"as checkpointed ({inspected.checkpoint_dtype})")


def test_config_only_models_count_parameters_on_the_meta_device():
    from automodel_cli.analysis.inspection import inspect_model
    from automodel_cli.files.reference import resolve_config

    gpt2 = str(EXAMPLES / "gpt2")
    inspected = inspect_model(resolve_config(gpt2))
    assert set(inspected.memory_bytes) == {*MEMORY_DTYPES, "checkpoint"}  # the manifest accepts what inspect reports
    result = only(check_models([{"model": gpt2, "max-parameters": "1B", "max-memory": "100MB", "dtype": "int4"}]))
    assert statuses(result) == {"heads": "pass", "max-parameters": "pass", "max-memory": "pass"}
    assert result.checks[1].message == f"{inspected.total_parameters:,} parameters, within max-parameters 1,000,000,000"


def test_weight_constraints_that_cannot_be_answered_are_not_checked(remote_only):
    result = only(check_models([{"model": str(remote_only), "max-parameters": "1B"}]))
    assert statuses(result) == {"heads": "pass", "max-parameters": "error"}
    assert result.reason.startswith("could not check max-parameters: ")
    assert result.fix == f"`amx inspect {remote_only}` shows the details"


def test_safetensors_pickle_and_no_weights(tiny_bert_dir, tmp_path):
    pickled = write_config(tmp_path / "m", model_type="gpt2", architectures=["GPT2LMHeadModel"])
    (pickled / "pytorch_model.bin").write_bytes(b"never unpickled")
    report = check_models([{"model": model, "require-safetensors": True}
                           for model in (str(tiny_bert_dir), str(pickled), str(EXAMPLES / "gpt2"))])
    safetensors, pickle, config_only = report.models
    assert safetensors.status == "pass" and safetensors.checks[-1].message == "the weights are safetensors"
    assert pickle.status == "fail"
    assert pickle.reason == "the weights are pickle-only (.bin): loading them runs code stored in the file"
    assert config_only.status == "error"
    assert config_only.reason == "could not check require-safetensors: no weight files found"


def test_results_keep_manifest_order_and_progress_sees_every_model():
    models = [str(EXAMPLES / name) for name in ("gpt2", "t5-small", "bert-ner", "vit-base-patch16-224", "whisper-medium")]
    seen = []
    report = check_models(models, progress=lambda done, total, result: seen.append((done, total, result and result.model)))
    assert [r.model for r in report.models] == models
    assert seen[0] == (0, 5, None) and [s[0] for s in seen] == [0, 1, 2, 3, 4, 5]
    assert {s[2] for s in seen[1:]} == set(models)


def test_api_takes_a_manifest_and_rejects_both(tmp_path, monkeypatch):
    (tmp_path / "amx.toml").write_text('[[models]]\nmodel = "gpt2"\nheads = ["AutoModelForCausalLM"]\n')
    shutil.copytree(EXAMPLES / "gpt2", tmp_path / "gpt2")
    report = check_models(manifest=tmp_path / "amx.toml")
    assert report.exit_code == 0 and report.manifest == str(tmp_path / "amx.toml")
    assert only(report).model == "gpt2" and only(report).line == 1
    monkeypatch.chdir(tmp_path)
    assert check_models().manifest == "amx.toml"
    with pytest.raises(ManifestError, match="not both"):
        check_models(["gpt2"], manifest="amx.toml")
    with pytest.raises(ManifestError, match=r"check_models\(\): models\[0\]\.heads: must be a list"):
        check_models([{"model": "gpt2", "heads": "AutoModel"}])


def test_importing_the_package_stays_light_and_heads_checks_never_import_torch():
    load_index()  # built once per transformers version (that build imports transformers)
    code = ("import sys, automodel_cli; print(sorted(m for m in ('automodel_cli.diagnosis.check', 'rich', 'typer', "
            "'huggingface_hub', 'transformers', 'torch') if m in sys.modules));"
            f"r = automodel_cli.check_models([{{'model': {str(EXAMPLES / 'bert-ner')!r}, 'native-head': "
            "'AutoModelForTokenClassification', 'allow-remote-code': False, 'min-transformers': '5'}]);"
            "print(r.exit_code, sorted(m for m in ('transformers', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    assert out.stdout.splitlines() == ["[]", "0 []"]


def test_hostile_inputs_end_as_a_status_or_a_manifest_error(tmp_path):
    """tests/support/hostile.py's cases: what makes `amx heads` exit 2 (a malformed file) is "could not check" here."""
    from support.hostile import build_cases

    expected = {frozenset({0}): {"pass"}, frozenset({1}): {"fail"}, frozenset({2}): {"error"},
                frozenset({1, 2}): {"fail", "error"}, frozenset({0, 1}): {"pass", "fail"},
                frozenset({0, 1, 2}): {"pass", "fail", "error"}}
    checked = []
    for case in build_cases(tmp_path):
        try:
            result = only(check_models([case.reference]))
        except ManifestError as error:  # a malformed reference is a manifest error, with its key
            assert case.name.startswith("reference-") and error.message.startswith("check_models(): models[0].")
            continue
        assert result.status in expected[case.exit_codes], (case.name, result.reason)
        assert case.message in result.reason, (case.name, result.reason)
        if case.name.startswith("config-"):  # absolute paths: they mean the same inside a manifest
            checked.append(case.reference)
    manifest = tmp_path / "amx.toml"
    manifest.write_text("".join(f"[[models]]\nmodel = {json.dumps(model)}\nnative-head = \"AutoModelForMaskedLM\"\n"
                                for model in checked))
    cli = run_amx_preloaded("check", "--manifest", str(manifest), "--junit-xml", str(tmp_path / "junit.xml"))
    assert cli.returncode == 1 and "Traceback" not in cli.stderr
    assert "\x1b" not in cli.stdout + cli.stderr and "[bold red]X[/bold red]" in cli.stdout
    assert len(list(ElementTree.parse(tmp_path / "junit.xml").getroot().iter("testcase"))) == len(checked)


# ------------------------------------------------------------------------------------------ the CLI


@pytest.fixture
def project(tmp_path) -> Path:
    """A project with two local models and a manifest where the second one fails."""
    for name in ("bert-ner", "gpt2"):
        shutil.copytree(EXAMPLES / name, tmp_path / "models" / name)
    (tmp_path / "amx.toml").write_text(
        '[[models]]\nmodel = "models/bert-ner"\nheads = ["AutoModelForTokenClassification"]\n\n'
        '[[models]]\nmodel = "models/gpt2"\nheads = ["AutoModelForCausalLM"]\nnative-head = "AutoModelForMaskedLM"\n'
    )
    return tmp_path


def test_cli_table_exit_code_and_summary(project):
    result = run_amx_preloaded("check", cwd=project)
    assert result.returncode == 1, result.stderr
    # rich 13.0 measures ✓ and ✗ two cells wide and pads the mark column: spaces are not counted
    assert re.search(r"✓ +│ models/bert-ner +│ pass \(1 check\) *\n +│   AutoModelForTokenClassification ", result.stdout)
    assert re.search(r"✗ +│ models/gpt2", result.stdout)
    assert "the checkpoint was trained for AutoModelForCausalLM (GPT2LMHeadModel), not AutoModelForMaskedLM" in result.stdout
    assert "fix: pin the revision that had the AutoModelForMaskedLM checkpoint" in result.stdout
    assert "1 passed, 1 failed, 0 could not be checked" in result.stdout
    assert "::error" not in result.stdout + result.stderr


def test_cli_json_junit_and_github_annotations(project):
    result = run_amx_preloaded("check", "--json", "--junit-xml", "report.xml", cwd=project, env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["schema"] == "amx.check/1"
    assert (data["manifest"], data["exit_code"], data["passed"], data["failed"], data["errors"]) == ("amx.toml", 1, 1, 1, 0)
    bert, gpt2 = data["models"]
    assert (bert["status"], bert["file"], bert["line"], bert["model_type"]) == ("pass", "amx.toml", 1, "bert")
    assert (gpt2["status"], gpt2["line"]) == ("fail", 5)
    assert [(c["constraint"], c["status"]) for c in gpt2["checks"]] == [("heads", "pass"), ("native-head", "fail")]
    assert set(gpt2) >= {"model", "status", "reason", "fix", "heads", "checks", "native_head", "notes", "seconds"}

    suite = ElementTree.parse(project / "report.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["models/bert-ner"].find("failure") is None
    failure = cases["models/gpt2"].find("failure")
    assert failure.get("type") == "native-head" and failure.get("message") == gpt2["reason"]
    assert "fix: pin the revision" in failure.text and cases["models/gpt2"].get("line") == "5"

    annotations = [line for line in result.stderr.splitlines() if line.startswith("::")]
    assert annotations == [
        "::error file=amx.toml,line=5,title=amx check%3A models/gpt2 fails::" + gpt2["reason"] + " Fix: " + gpt2["fix"]
    ]


def test_cli_models_without_a_manifest():
    result = runner.invoke(app, ["check", str(EXAMPLES / "gpt2"), str(EXAMPLES / "t5-small"),
                                 "--head", "AutoModelForCausalLM", "--json"])
    assert result.exit_code == 1
    gpt2, t5 = json.loads(result.stdout)["models"]
    assert gpt2["status"] == "pass" and t5["status"] == "fail"
    assert t5["reason"].startswith("AutoModelForCausalLM cannot load t5 in transformers")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--head", "AutoModel"], "--head needs MODEL arguments"),
        (["gpt2", "--manifest", "amx.toml"], "give MODEL arguments or --manifest, not both"),
        (["gpt2", "--max-memory", "lots"], "command line: --max-memory: must be a positive number"),
        (["gpt2", "--head", "AutoModelForCasualLM"], "command line: --head: 'AutoModelForCasualLM' is not an Auto class"),
        (["gpt2", "gpt2"], "command line: MODEL: 'gpt2' is listed twice"),
        (["--manifest", "missing.toml"], "missing.toml: cannot read the manifest"),
    ],
)
def test_cli_usage_errors_exit_2(args, message):
    result = runner.invoke(app, ["check", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_markup_from_a_config_is_shown_literally(tmp_path):
    model = write_config(tmp_path / "m", model_type="bert", architectures=["[bold red]Evil[/bold red]\x1b[31m"])
    result = run_amx_preloaded("check", str(model), "--native-head", "AutoModelForMaskedLM")
    assert result.returncode == 1
    assert "[bold red]Evil[/bold red]" in result.stdout and "\x1b[31m" not in result.stdout


# ------------------------------------------------------------------------------------ CI examples


def test_the_github_workflow_command_works_as_written(tmp_path):
    workflow = (PROJECT_ROOT / "examples" / "ci" / "github-workflow.yml").read_text()
    (command,) = re.findall(r"^\s*run:\s*(amx check\b.*)$", workflow, re.M)
    shutil.copytree(EXAMPLES, tmp_path / "examples")  # the checkout: commands run at the repository root
    argv = shlex.split(command)
    result = run_amx_preloaded(*argv[1:], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    junit = argv[argv.index("--junit-xml") + 1]
    suite = ElementTree.parse(tmp_path / junit).getroot().find("testsuite")
    assert int(suite.get("tests")) >= 3 and suite.get("failures") == "0" and suite.get("errors") == "0"


def test_the_pre_commit_hook_runs_its_entry_on_the_manifest(tmp_path):
    hooks = (PROJECT_ROOT / ".pre-commit-hooks.yaml").read_text()
    entry = re.search(r"^\s*entry:\s*(.+)$", hooks, re.M).group(1).strip()
    files = re.compile(re.search(r"^\s*files:\s*(.+)$", hooks, re.M).group(1).strip())
    assert files.search("amx.toml") and files.search("sub/pyproject.toml") and not files.search("amx.toml.bak")
    assert "id: amx-check" in (PROJECT_ROOT / "examples" / "ci" / "pre-commit-config.yaml").read_text()
    shutil.copytree(EXAMPLES / "gpt2", tmp_path / "gpt2")
    (tmp_path / "amx.toml").write_text('[[models]]\nmodel = "gpt2"\nheads = ["AutoModelForCausalLM"]\n')
    assert entry.split()[0] == "amx"
    result = run_amx_preloaded(*entry.split()[1:], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------------- Hub models (local Hub)

NER_CONFIG = {"model_type": "bert", "architectures": ["BertForTokenClassification"]}
MLM_CONFIG = {"model_type": "bert", "architectures": ["BertForMaskedLM"]}
QA_CONFIG = {"model_type": "distilbert", "architectures": ["DistilBertForQuestionAnswering"]}


@pytest.fixture(scope="module")
def hub(local_hub, tiny_bert_repo):
    local_hub.add_repo("amx-check/ner", {"config.json": NER_CONFIG}, tags=["v1"], branches={"qa": {"config.json": QA_CONFIG}})
    local_hub.add_repo("amx-check/no-config", {"README.md": "no config.json here\n"})
    return local_hub


HUB_MANIFEST = """
[[models]]
model = "amx-test/tiny-bert-cls"
heads = ["AutoModelForSequenceClassification"]
native-head = "AutoModelForSequenceClassification"
require-safetensors = true
max-parameters = "1M"

[[models]]
model = "amx-check/ner"
revision = "qa"
heads = ["AutoModelForQuestionAnswering"]

[[models]]
model = "amx-check/ner@v1"
native-head = "AutoModelForTokenClassification"

[[models]]
model = "amx-check/moved-away"
heads = ["AutoModel"]

[[models]]
model = "amx-check/ner"
revision = "no-such-branch"

[[models]]
model = "amx-check/no-config"

[[models]]
model = "local"
heads = ["AutoModelForCausalLM"]
"""


@pytest.fixture
def hub_project(tmp_path) -> Path:
    shutil.copytree(EXAMPLES / "gpt2", tmp_path / "local")
    (tmp_path / "amx.toml").write_text(HUB_MANIFEST)
    return tmp_path


def test_hub_models_are_checked_together(hub, hub_project):
    result = run_amx_preloaded("check", "--json", cwd=hub_project, env=hub.env())
    assert result.returncode == 1, result.stderr
    models = {(m["model"], m["line"]): m for m in json.loads(result.stdout)["models"]}
    status = {key: (m["status"], m["reason"]) for key, m in models.items()}
    assert status[("amx-test/tiny-bert-cls", 2)] == ("pass", "")
    tiny = models[("amx-test/tiny-bert-cls", 2)]["checks"]
    assert [(c["constraint"], c["status"]) for c in tiny][2:] == [("max-parameters", "pass"), ("require-safetensors", "pass")]
    assert status[("amx-check/ner", 9)] == ("pass", "")
    assert status[("amx-check/ner@v1", 14)] == ("pass", "")
    assert status[("local", 29)] == ("pass", "")
    assert status[("amx-check/moved-away", 18)][0] == "fail"
    assert "repository amx-check/moved-away not found" in status[("amx-check/moved-away", 18)][1]
    assert status[("amx-check/ner", 22)] == ("fail", "revision 'no-such-branch' not found in amx-check/ner")
    assert status[("amx-check/no-config", 26)] == ("fail", "config.json not found in amx-check/no-config")


def test_a_hub_model_whose_head_changed_fails_on_the_next_run(local_hub, tmp_path):
    repo = "amx-check/changes-head"
    local_hub.add_repo(repo, {"config.json": NER_CONFIG})
    args = ("check", repo, "--head", "AutoModelForTokenClassification", "--native-head", "AutoModelForTokenClassification")
    env = local_hub.env(tmp_path / "hf-home")  # one cache for both runs: the second must not trust it
    assert run_amx_preloaded(*args, env=env).returncode == 0
    local_hub.add_repo(repo, {"config.json": MLM_CONFIG})
    result = run_amx_preloaded(*args, "--json", env=env)
    assert result.returncode == 1
    (model,) = json.loads(result.stdout)["models"]
    assert model["reason"] == ("the checkpoint was trained for AutoModelForMaskedLM (BertForMaskedLM), "
                               "not AutoModelForTokenClassification")


def test_unreachable_hub_is_could_not_check_unless_cached(hub, tmp_path):
    from support.localhub import free_port

    manifest = tmp_path / "amx.toml"
    manifest.write_text('[[models]]\nmodel = "amx-check/ner@v1"\nheads = ["AutoModelForTokenClassification"]\n')
    closed = {"HF_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    never_cached = run_amx_preloaded("check", "--json", cwd=tmp_path, env={**hub.env(tmp_path / "empty"), **closed})
    assert never_cached.returncode == 3, never_cached.stderr
    (model,) = json.loads(never_cached.stdout)["models"]
    assert model["status"] == "error" and model["reason"].startswith("could not check: cannot reach the Hub at")

    cache = hub.env(tmp_path / "cache")
    assert run_amx_preloaded("check", cwd=tmp_path, env=cache).returncode == 0
    config_only = run_amx_preloaded("check", "--json", cwd=tmp_path, env={**cache, **closed})
    assert config_only.returncode == 3, config_only.stderr  # from_pretrained would find no weights either
    (model,) = json.loads(config_only.stdout)["models"]
    assert model["from_cache"] is True and model["reason"].startswith("could not check the weights")
    assert model["notes"] == ["the Hub could not be asked: checked the cached config.json, which may be out of date"]

    manifest.write_text('[[models]]\nmodel = "amx-test/tiny-bert-cls"\n')
    download = "from huggingface_hub import snapshot_download; snapshot_download('amx-test/tiny-bert-cls')"
    subprocess.run([sys.executable, "-c", download], check=True, env={**os.environ, **cache})
    from_cache = run_amx_preloaded("check", "--json", cwd=tmp_path, env={**cache, **closed})
    assert from_cache.returncode == 0, from_cache.stdout + from_cache.stderr
    assert json.loads(from_cache.stdout)["models"][0]["from_cache"] is True


def test_heads_take_the_short_forms_every_command_takes():
    """`amx check --head causal-lm` reads the name as `amx source` and `amx doctor --head` do."""
    gpt2 = str(EXAMPLES / "gpt2")
    short = run_amx_preloaded("check", gpt2, "--head", "causal-lm", "--native-head", "causal-lm", "--json")
    assert short.returncode == 0, short.stderr
    (model,) = json.loads(short.stdout)["models"]
    assert model["status"] == "pass" and model["heads"] == ["causal-lm"]
    assert "causal-lm (AutoModelForCausalLM) builds GPT2LMHeadModel" in [c["message"] for c in model["checks"]]
    unsupported = run_amx_preloaded("check", gpt2, "--head", "image-classification")
    assert unsupported.returncode == 1 and "image-classification cannot load gpt2" in unsupported.stdout
    ambiguous = run_amx_preloaded("check", gpt2, "--head", "classification", "--json")
    assert ambiguous.returncode == 1
    assert "'classification' is ambiguous" in json.loads(ambiguous.stdout)["models"][0]["reason"]


@pytest.mark.parametrize("missing", ["../no-such-model", "./no-such-model", "/no-such-model"])
def test_a_missing_model_is_its_own_result_not_a_malformed_manifest(project, missing):
    """However a missing path is written, it fails only its entry (from_pretrained raises OSError for it too)."""
    from transformers import AutoConfig

    with pytest.raises(OSError):
        AutoConfig.from_pretrained(str(project / missing))
    (project / "amx.toml").write_text(f'[[models]]\nmodel = "{missing}"\n\n[[models]]\nmodel = "models/gpt2"\n')
    human = run_amx_preloaded("check", cwd=project)
    assert human.returncode == 1, human.stderr
    assert f"✗ │ {missing}" in human.stdout and "✓ │ models/gpt2" in human.stdout
    assert "no such local directory" in human.stdout and "1 passed, 1 failed" in human.stdout
    data = json.loads(run_amx_preloaded("check", "--json", cwd=project).stdout)
    assert [(m["model"], m["status"]) for m in data["models"]] == [(missing, "fail"), ("models/gpt2", "pass")]
    assert data["exit_code"] == 1
