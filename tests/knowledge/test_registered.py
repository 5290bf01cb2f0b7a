"""`--import MODULE`: models a project registers with the Auto classes, and the registration pitfalls.

The project is tests/support/regpkg (good.py registers NewModelConfig as "new-model" with AutoModel and
AutoModelForSequenceClassification; every other module is one pitfall). amx runs from tests/, as a
user runs it from their project, and every answer is compared with what transformers itself does
after the same import. That import happens in a subprocess too (`after_import`): registering in the
test process would change transformers' mappings for every other test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support import EXAMPLES, PROJECT_ROOT
from support.preloaded import run_amx_preloaded

SUPPORT = Path(__file__).resolve().parents[1] / "support"  # regpkg/ is there
BERT = str(EXAMPLES / "bert-base-uncased")


def amx(*args: str, cwd: Path = SUPPORT, env: dict[str, str] | None = None):
    """The entry point in a process of its own (what `--import` registers stays there), forked from one
    that imported torch and transformers once (support/preloaded.py)."""
    return run_amx_preloaded(*args, cwd=cwd, env=env)


def after_import(module: str, code: str):
    """Run `code` with transformers after `import <module>` (from tests/) and return what it prints as JSON
    (the dict `result`); an exception of the import itself is returned as {"import_error": "Type: text"}."""
    program = textwrap.dedent(f"""
        import json, sys
        try:
            import {module}
        except Exception as error:
            print(json.dumps({{"import_error": f"{{type(error).__name__}}: {{error}}"}}))
            sys.exit(0)
        result = {{}}
    """) + textwrap.dedent(code) + "\nprint(json.dumps(result))\n"
    done = subprocess.run([sys.executable, "-c", program], cwd=SUPPORT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def json_of(result) -> dict:
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def one_line_error(result, *parts: str) -> None:
    """Exit 2 and a one-line error (plus its hint) naming every part, never a traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and all(part in lines[0] for part in parts), lines
    assert len(lines) <= 2 and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def new_model(tmp_path_factory) -> Path:
    """A tiny NewModelForSequenceClassification saved by transformers after importing regpkg.good."""
    directory = tmp_path_factory.mktemp("new-model")
    after_import("regpkg.good", f"""
        import torch
        torch.manual_seed(0)
        regpkg.good.NewModelForSequenceClassification(regpkg.good.NewModelConfig()).save_pretrained({str(directory)!r})
    """)
    assert (directory / "model.safetensors").is_file()
    return directory


def config_only(tmp_path: Path, model_type: str) -> Path:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": model_type, "hidden_size": 16}))
    return tmp_path


@pytest.fixture(scope="module")
def truth(new_model) -> dict:
    """What transformers does with the good project, after `import regpkg.good` (one process for all)."""
    return after_import("regpkg.good", f"""
        import inspect
        import transformers
        from automodel_cli.knowledge.head_index import auto_model_classes
        config = regpkg.good.NewModelConfig()
        result["heads"] = {{name: cls._model_mapping[type(config)].__name__
                           for name, cls in auto_model_classes() if type(config) in cls._model_mapping}}
        for head in ("AutoModel", "AutoModelForSequenceClassification"):
            model, info = getattr(transformers, head).from_pretrained({str(new_model)!r}, output_loading_info=True)
            result[head] = {{"class": type(model).__name__, "parameters": model.num_parameters(),
                            "missing": sorted(info["missing_keys"]), "unexpected": sorted(info["unexpected_keys"])}}
        result["from_config"] = transformers.AutoModel.from_config(config).num_parameters()
        cls = regpkg.good.NewModelForSequenceClassification
        result["source"] = {{"__init__": inspect.getsource(cls.__init__), "forward": inspect.getsource(cls.forward)}}
    """)


# ------------------------------------------------------------------------------------------ the good project


def test_heads_lists_the_registered_heads_transformers_accepts(new_model, truth):
    assert truth["heads"] == {"AutoModel": "NewModel",
                              "AutoModelForSequenceClassification": "NewModelForSequenceClassification"}
    report = json_of(amx("heads", str(new_model), "--import", "regpkg.good", "--json"))
    assert {h["auto_class"]: h["model_class"] for h in report["heads"]} == truth["heads"]
    assert {h["registered_by"] for h in report["heads"]} == {"regpkg.good"}
    assert report["registered_by"] == "regpkg.good"
    assert report["config_class"] == "NewModelConfig"
    assert report["native_head"] == "AutoModelForSequenceClassification"
    human = amx("heads", str(new_model), "--import", "regpkg.good")
    assert human.returncode == 0 and "registered by regpkg.good" in human.stdout
    assert "★ native head: AutoModelForSequenceClassification" in human.stdout


def test_without_import_the_model_type_is_unknown_and_the_hint_names_import(new_model):
    result = amx("heads", str(new_model))
    assert result.returncode == 1
    assert "'new-model' is not known" in result.stderr and "--import" in result.stderr


def test_registered_classes_never_enter_the_shared_cached_index(tmp_path):
    """Even when the cache is built in a process where a project registered its classes."""
    done = subprocess.run(
        [sys.executable, "-c", "import regpkg.good\nfrom automodel_cli.knowledge.head_index import load_index, index_path\n"
                               "index = load_index()\nprint(index.config_class_for('new-model'), "
                               "index.heads_for('NewModelConfig'))\nprint(index_path())"],
        cwd=SUPPORT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "AMX_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode == 0, done.stderr
    answer, path = done.stdout.strip().splitlines()[-2:]
    assert answer == "None {}"
    cached = Path(path).read_text()
    assert "NewModel" not in cached and "new-model" not in cached and '"bert"' in cached


@pytest.mark.parametrize("head", ["AutoModel", "AutoModelForSequenceClassification"])
def test_inspect_builds_the_registered_head_and_predicts_from_pretrained(new_model, truth, head):
    expected = truth[head]
    report = json_of(amx("inspect", str(new_model), "--import", "regpkg.good", "--head", head, "--json"))
    assert report["head"]["model_class"] == expected["class"]
    assert report["head"]["num_parameters"] == expected["parameters"]
    assert report["head"]["note"] == ""  # predicted with transformers' own loading code
    assert sorted(report["head"]["missing_keys"]) == expected["missing"]
    assert sorted(report["head"]["unexpected_keys"]) == expected["unexpected"]


def test_inspect_of_a_config_alone_builds_like_from_config(tmp_path, truth):
    report = json_of(amx("inspect", str(config_only(tmp_path, "new-model")), "--import", "regpkg.good", "--json"))
    assert report["source"] == "meta"
    assert report["total_parameters"] == truth["from_config"]


def test_source_shows_the_registered_code(new_model, truth):
    args = ("source", "AutoModelForSequenceClassification", str(new_model), "--import", "regpkg.good")
    report = json_of(amx(*args, "--json"))
    assert report["model_class"] == "NewModelForSequenceClassification"
    assert report["module"] == "regpkg.good" and report["file"] == "regpkg/good.py"
    assert {m["name"]: m["source"] for m in report["methods"]} == truth["source"]
    human = amx(*args)
    assert human.returncode == 0 and "self.classifier = torch.nn.Linear" in human.stdout


@pytest.mark.parametrize("head", ["AutoModelForSequenceClassification", "AutoModel"])
def test_doctor_treats_registered_heads_like_built_in_ones(new_model, truth, head):
    expected = truth[head]
    result = amx("doctor", str(new_model), "--import", "regpkg.good", "--head", head, "--json")
    report = json_of(result)
    unused = next((f["keys"] for f in report["findings"] if f["code"] == "unused-weights"), [])
    new = next((f["keys"] for f in report["findings"] if f["code"] == "new-weights"), [])
    assert (sorted(unused), sorted(new)) == (expected["unexpected"], expected["missing"])
    clean = not expected["unexpected"] and not expected["missing"]
    assert result.returncode == (0 if clean else 1)
    assert report["verdict"] == ("ok" if clean else "warn")
    assert report["model_class"] == expected["class"]


def test_check_from_the_command_line(new_model):
    result = amx("check", str(new_model), "--head", "AutoModelForSequenceClassification", "--import", "regpkg.good",
                 "--native-head", "AutoModelForSequenceClassification", "--json")
    report = json_of(result)
    assert result.returncode == 0 and report["passed"] == 1
    assert amx("check", str(new_model), "--head", "AutoModelForSequenceClassification").returncode == 1


def test_check_manifest_imports_from_the_manifest_folder(new_model, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(SUPPORT / "regpkg", project / "regpkg", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "amx.toml").write_text(textwrap.dedent(f"""
        import = ["regpkg.good"]

        [[models]]
        model = {json.dumps(str(new_model))}
        heads = ["AutoModel", "AutoModelForSequenceClassification"]
        native-head = "AutoModelForSequenceClassification"
        max-parameters = "2k"
    """))
    result = amx("check", "--manifest", str(project / "amx.toml"), "--json", cwd=tmp_path)
    report = json_of(result)
    assert result.returncode == 0, report
    assert {c["constraint"] for c in report["models"][0]["checks"]} >= {"heads", "native-head", "max-parameters"}

    (project / "amx.toml").write_text(f'import = ["regpkg.missing"]\n[[models]]\nmodel = "{new_model}"\n')
    one_line_error(amx("check", "--manifest", str(project / "amx.toml"), cwd=tmp_path),
                   "amx.toml:1: import: cannot import regpkg.missing", "ModuleNotFoundError")
    (project / "amx.toml").write_text(f'\nimport = "regpkg.good"\n[[models]]\nmodel = "{new_model}"\n')
    one_line_error(amx("check", "--manifest", str(project / "amx.toml"), cwd=tmp_path),
                   "amx.toml:2: import: must be a list of module names")


def test_check_fails_a_model_whose_registration_has_a_pitfall(tmp_path):
    model = config_only(tmp_path, "plain-model")
    report = json_of(amx("check", str(model), "--import", "regpkg.not_pretrained", "--json"))
    assert report["failed"] == 1
    failing = [c for c in report["models"][0]["checks"] if c["status"] == "fail"]
    assert [c["constraint"] for c in failing] == ["registration"] and "PreTrainedModel" in failing[0]["fix"]


# ---------------------------------------------------------------------------------------------- the pitfalls


@pytest.mark.parametrize("module, code, words", [
    ("regpkg.bad_model_type", "registered-model-type-mismatch",
     ["'mistyped-model'", "'mistyped_model'", "model_type = 'mistyped-model'", "MistypedConfig"]),
    ("regpkg.wrong_config_class", "registered-config-class-mismatch",
     ["OtherModel", "NewModelConfig", "config_class = OtherConfig"]),
    ("regpkg.shadows_refused", "registered-shadows-builtin", ["'bert'", "exist_ok=True"]),
])
def test_registrations_transformers_refuses_are_import_errors_and_doctor_findings(new_model, module, code, words):
    transformers_error = after_import(module, "")["import_error"]
    assert transformers_error.startswith("ValueError: ")
    pasted = json_of(amx("doctor", "--error", transformers_error, "--json"))
    assert [(f["code"], f["severity"]) for f in pasted["findings"]] == [(code, "error")]
    one_line_error(amx("heads", str(new_model), "--import", module), f"cannot import {module}", "ValueError")
    result = amx("doctor", str(new_model), "--import", module, "--json")
    report = json_of(result)
    assert result.returncode == 1 and report["verdict"] == "fail"
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [(code, "error")]
    finding = report["findings"][0]
    assert all(word in finding["message"] + finding["fix"] for word in words), finding
    assert f"--import {module} stopped: ValueError" in report["notes"][0]


def test_config_class_that_is_a_copy_of_the_registered_one(tmp_path):
    """transformers' check compares names, so it registers; CopiedModel.from_pretrained then reads the copy."""
    saved = tmp_path / "copied"
    truth = after_import("regpkg.copied_config_class", f"""
        from transformers import AutoConfig, AutoModel
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING
        AutoModel.from_config(regpkg.copied_config_class.CopiedConfig()).save_pretrained({str(saved)!r})
        loaded = regpkg.copied_config_class.CopiedModel.from_pretrained({str(saved)!r})
        result = {{"auto": type(AutoModel.from_pretrained({str(saved)!r})).__name__,
                  "same_config": type(loaded.config) is CONFIG_MAPPING["copied-model"]}}
    """)
    assert truth == {"auto": "CopiedModel", "same_config": False}
    result = amx("doctor", str(saved), "--import", "regpkg.copied_config_class", "--json")
    findings = {f["code"]: f for f in json_of(result)["findings"]}
    assert result.returncode == 1
    assert "regpkg.copied_configuration.CopiedConfig" in findings["registered-config-class-mismatch"]["message"]
    assert "config_class = CopiedConfig" in findings["registered-config-class-mismatch"]["fix"]


def test_model_class_that_is_not_a_pretrained_model(tmp_path):
    truth = after_import("regpkg.not_pretrained", """
        from transformers import AutoModel
        try:
            AutoModel.from_config(regpkg.not_pretrained.PlainConfig())
            result["from_config"] = "built"
        except Exception as error:
            result["from_config"] = type(error).__name__
    """)
    assert truth["from_config"] == "AttributeError"
    model = config_only(tmp_path, "plain-model")
    report = json_of(amx("doctor", str(model), "--import", "regpkg.not_pretrained", "--json"))
    assert "registered-not-pretrained-model" in [f["code"] for f in report["findings"]]
    assert amx("inspect", str(model), "--import", "regpkg.not_pretrained").returncode == 1


def test_registration_shadowing_a_built_in_model_type():
    truth = after_import("regpkg.shadows_bert", """
        from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM
        config = AutoConfig.from_pretrained(sys.argv[1] if len(sys.argv) > 1 else %r)
        result["config"] = type(config).__name__
        result["AutoModel"] = type(AutoModel.from_config(config)).__name__
        try:
            AutoModelForMaskedLM.from_config(config)
            result["AutoModelForMaskedLM"] = "built"
        except ValueError:
            result["AutoModelForMaskedLM"] = "refused"
    """ % BERT)
    assert truth == {"config": "MyBertConfig", "AutoModel": "MyBertModel", "AutoModelForMaskedLM": "refused"}
    heads = json_of(amx("heads", BERT, "--import", "regpkg.shadows_bert", "--json"))
    assert {h["auto_class"]: h["model_class"] for h in heads["heads"]} == {"AutoModel": "MyBertModel"}
    assert heads["config_class"] == "MyBertConfig"
    report = json_of(amx("doctor", BERT, "--head", "AutoModel", "--import", "regpkg.shadows_bert", "--json"))
    shadow = next(f for f in report["findings"] if f["code"] == "registered-shadows-builtin")
    assert shadow["severity"] == "warning" and "'bert'" in shadow["message"]


def test_model_type_matching_no_registration(tmp_path):
    model = config_only(tmp_path, "new-modle")
    truth = after_import("regpkg.good", f"""
        from transformers import AutoConfig
        try:
            AutoConfig.from_pretrained({str(model)!r})
        except ValueError as error:
            result["error"] = str(error)
    """)
    assert "new-modle" in truth["error"]
    report = json_of(amx("doctor", str(model), "--import", "regpkg.good", "--json"))
    finding = next(f for f in report["findings"] if f["code"] == "unregistered-model-type")
    assert "regpkg.good" in finding["message"] and "AutoConfig.register('new-modle'" in finding["fix"]
    assert "unknown-model-type" not in [f["code"] for f in report["findings"]]
    heads = amx("heads", str(model), "--import", "regpkg.good")
    assert heads.returncode == 1 and "nor registered by regpkg.good" in heads.stderr


# --------------------------------------------------------------------------------------- importing modules


@pytest.mark.parametrize("command", [["heads"], ["inspect"], ["source", "AutoModel"], ["doctor"], ["check"]])
def test_a_module_that_raises_is_one_line_naming_it(new_model, command):
    one_line_error(amx(*command, str(new_model), "--import", "regpkg.raises"),
                   "cannot import regpkg.raises", "RuntimeError: the project's settings file is missing")


def test_missing_and_malformed_module_names(new_model, tmp_path):
    one_line_error(amx("heads", str(new_model), "--import", "regpkg.missing"), "ModuleNotFoundError")
    missing = amx("heads", str(new_model), "--import", "regpkg.good", cwd=tmp_path)
    one_line_error(missing, "cannot import regpkg.good", "No module named 'regpkg'")
    assert "run amx from the folder that holds regpkg" in missing.stderr
    one_line_error(amx("heads", str(new_model), "--import", "regpkg/good.py"), "not a module name")


def test_the_current_directory_is_importable_as_with_python_c(new_model):
    """The `amx` script, unlike `python -m`, does not put the current directory on sys.path: -P is that case."""
    result = subprocess.run([sys.executable, "-P", "-m", "automodel_cli", "heads", str(new_model), "--import",
                             "regpkg.good", "--json"], cwd=SUPPORT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["native_head"] == "AutoModelForSequenceClassification"


def test_what_a_module_prints_goes_to_stderr(new_model):
    result = amx("heads", str(new_model), "--import", "regpkg.noisy", "--json")
    assert json_of(result)["native_head"] == "AutoModelForSequenceClassification"
    assert "registering the project's models" in result.stderr


def test_import_is_offered_by_every_command_that_takes_a_model():
    for command in ("heads", "inspect", "source", "doctor", "check"):
        shown = " ".join(amx(command, "--help", env={"COLUMNS": "200"}).stdout.split())  # as wrapped or not
        assert "--import" in shown and "runs its code" in shown, command
