"""`amx doctor`: predictions must agree with what transformers really does, and its real messages
must be recognised and explained the same way as the prediction."""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from support import EXAMPLES, PROJECT_ROOT, corpus_slugs
from support.preloaded import run_amx_preloaded
from typer.testing import CliRunner

from automodel_cli.cli import app
from automodel_cli.diagnosis.doctor import diagnose_model
from automodel_cli.diagnosis.load_errors import diagnose_text
from automodel_cli.knowledge.head_index import load_index

runner = CliRunner()
TINY_BERT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37, vocab_size=99)


@pytest.fixture(scope="module")
def index():
    return load_index()


@pytest.fixture(scope="module")
def bert_mlm(tmp_path_factory) -> Path:
    """A tiny BertForMaskedLM checkpoint saved by transformers (config.json + model.safetensors)."""
    from transformers import BertConfig, BertForMaskedLM

    directory = tmp_path_factory.mktemp("bert-mlm")
    BertForMaskedLM(BertConfig(**TINY_BERT, architectures=["BertForMaskedLM"])).save_pretrained(directory)
    return directory


def transformers_says(call) -> str:
    """What transformers logs and raises while running `call`: the text a user would paste."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        call()
        raised = ""
    except Exception as error:  # noqa: BLE001 - the failure is the point
        raised = "".join(traceback.format_exception(error))
    finally:
        logger.removeHandler(handler)
    return stream.getvalue() + raised


def codes(report) -> list[str]:
    return [finding.code for finding in report.findings]


def doctor_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["doctor", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


# --- predictions from a model, checked against real loads -------------------------------------------------


def test_native_head_loads_cleanly(bert_mlm):
    from transformers import AutoModelForMaskedLM

    exit_code, data = doctor_json(str(bert_mlm))
    assert (exit_code, data["verdict"], data["findings"]) == (0, "ok", [])
    assert data["schema"] == "amx.doctor/1"
    assert (data["head"], data["model_class"], data["model_type"]) == ("AutoModelForMaskedLM", "BertForMaskedLM", "bert")
    _, info = AutoModelForMaskedLM.from_pretrained(bert_mlm, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]


def keys_of(report, code: str) -> set[str]:
    return {key for finding in report.findings if finding.code == code for key in finding.keys}


@pytest.mark.parametrize("head", ["AutoModelForSequenceClassification", "AutoModel", "AutoModelForTokenClassification"])
def test_other_heads_get_exactly_the_keys_of_the_real_load(head, bert_mlm, index):
    import transformers

    report = diagnose_model(str(bert_mlm), index, head=head)
    assert codes(report) == ["new-weights", "unused-weights"] and report.verdict == "warn"
    assert "AutoModelForMaskedLM" in report.findings[0].fix  # the head the checkpoint was trained with
    _, info = getattr(transformers, head).from_pretrained(bert_mlm, output_loading_info=True)
    assert keys_of(report, "new-weights") == set(info["missing_keys"])
    assert keys_of(report, "unused-weights") == set(info["unexpected_keys"])
    said = transformers_says(lambda: getattr(transformers, head).from_pretrained(bert_mlm))
    from_text = diagnose_text(said, index)  # the real warning, explained the same way
    assert codes(from_text) == ["new-weights", "unused-weights"]
    assert keys_of(from_text, "new-weights") == set(info["missing_keys"])


def test_shapes_that_do_not_fit_are_refused_like_the_real_load(bert_mlm, tmp_path, index):
    from transformers import AutoModelForMaskedLM

    config = json.loads((bert_mlm / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "vocab_size": 100}))
    (tmp_path / "model.safetensors").symlink_to(bert_mlm / "model.safetensors")
    report = diagnose_model(str(tmp_path), index)
    assert codes(report) == ["size-mismatch"] and report.verdict == "fail"
    assert "bert.embeddings.word_embeddings.weight" in report.findings[0].keys
    said = transformers_says(lambda: AutoModelForMaskedLM.from_pretrained(tmp_path))
    assert "ignore_mismatched_sizes" in said
    assert keys_of(diagnose_text(said, index), "size-mismatch") == set(report.findings[0].keys)


def test_unsupported_head_prediction_matches_the_real_error(bert_mlm, index):
    from transformers import AutoModelForImageClassification

    exit_code, data = doctor_json(str(bert_mlm), "--head", "AutoModelForImageClassification")
    assert exit_code == 1 and data["verdict"] == "fail"
    (finding,) = data["findings"]
    assert finding["code"] == "unsupported-head"
    assert "AutoModelForMaskedLM (native)" in finding["fix"] and "AutoModelForTokenClassification" in finding["fix"]
    said = transformers_says(lambda: AutoModelForImageClassification.from_pretrained(bert_mlm))
    assert "Unrecognized configuration class" in said
    from_text = diagnose_text(said, index)
    assert codes(from_text) == ["unsupported-head"]
    assert from_text.findings[0].fix == finding["fix"].replace(" (native)", "")


def test_gpt2_config_with_an_image_head_explained_from_the_real_message(index):
    """The issue's own example: AutoModelForImageClassification.from_config on a gpt2 config."""
    from transformers import AutoModelForImageClassification, GPT2Config

    said = transformers_says(lambda: AutoModelForImageClassification.from_config(GPT2Config(n_layer=1)))
    result = runner.invoke(app, ["doctor", "--error", said])
    assert result.exit_code == 1
    assert "unsupported-head" in result.stdout and "model_type 'gpt2'" in result.stdout
    assert "AutoModelForCausalLM" in result.stdout  # a head gpt2 does support


def test_class_level_guess_without_safetensors(bert_mlm, tmp_path, index):
    """No safetensors to compare with: new and unused weights are judged from the classes."""
    (tmp_path / "config.json").write_text((bert_mlm / "config.json").read_text())
    (tmp_path / "pytorch_model.bin").write_bytes(b"never opened")
    assert codes(diagnose_model(str(tmp_path), index, head="automodel")) == ["unused-weights", "pickle-weights"]
    assert codes(diagnose_model(str(tmp_path), index, head="AutoModelForSequenceClassification")) == [
        "new-weights", "pickle-weights"]


def test_task_names_work_as_heads(bert_mlm, index):
    report = diagnose_model(str(bert_mlm), index, head="ner")
    assert report.head == "AutoModelForTokenClassification"
    assert any("read as AutoModelForTokenClassification" in note for note in report.notes)


def test_unknown_head_is_bad_input(bert_mlm):
    result = runner.invoke(app, ["doctor", str(bert_mlm), "--head", "AutoModelForTeleportation"])
    assert result.exit_code == 2
    assert "unknown Auto class" in result.stderr


def test_config_only_folder_has_no_weights_like_the_real_load(index):
    from transformers import AutoModelForCausalLM

    report = diagnose_model(str(EXAMPLES / "gpt2"), index)
    assert codes(report) == ["no-weights"] and report.head == "AutoModelForCausalLM"
    said = transformers_says(lambda: AutoModelForCausalLM.from_pretrained(EXAMPLES / "gpt2"))
    assert codes(diagnose_text(said, index)) == ["no-weights"]


def test_pickle_only_weights_are_flagged_and_never_unpickled(tmp_path, index):
    marker = tmp_path / "unpickled"

    class WritesAFile:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (tmp_path / "pytorch_model.bin").write_bytes(pickle.dumps(WritesAFile()))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    exit_code, data = doctor_json(str(tmp_path))
    assert exit_code == 1 and [f["code"] for f in data["findings"]] == ["pickle-weights"]
    assert not marker.exists()


def test_unknown_model_type_prediction_matches_the_real_error(bert_mlm, tmp_path, index):
    from transformers import AutoConfig

    config = json.loads((bert_mlm / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "model_type": "bert-from-the-future"}))
    (tmp_path / "model.safetensors").symlink_to(bert_mlm / "model.safetensors")
    report = diagnose_model(str(tmp_path), index)
    assert codes(report) == ["unknown-model-type"]
    assert f"transformers>={config['transformers_version']}" in report.findings[0].fix
    said = transformers_says(lambda: AutoConfig.from_pretrained(tmp_path))
    assert codes(diagnose_text(said, index)) == ["unknown-model-type"]


def test_config_written_by_a_newer_transformers(bert_mlm, tmp_path, index):
    config = json.loads((bert_mlm / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "transformers_version": "99.1.0"}))
    (tmp_path / "model.safetensors").symlink_to(bert_mlm / "model.safetensors")
    report = diagnose_model(str(tmp_path), index)
    assert codes(report) == ["newer-transformers"] and "transformers>=99.1.0" in report.findings[0].fix


def test_remote_code_is_required_and_never_imported(tmp_path, index):
    from transformers import AutoConfig

    marker = tmp_path / "imported"
    for module in ("configuration_evil", "modeling_evil"):
        (tmp_path / f"{module}.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (tmp_path / "config.json").write_text(json.dumps({
        "model_type": "evil", "architectures": ["EvilForCausalLM"],
        "auto_map": {"AutoConfig": "configuration_evil.EvilConfig", "AutoModelForCausalLM": "modeling_evil.EvilForCausalLM"},
    }))
    (tmp_path / "model.safetensors").write_bytes(b"")
    report = diagnose_model(str(tmp_path), index)
    assert codes(report) == ["remote-code"] and report.verdict == "fail"
    said = transformers_says(lambda: AutoConfig.from_pretrained(tmp_path, trust_remote_code=False))
    assert codes(diagnose_text(said, index)) == ["remote-code"]
    assert not marker.exists()


def test_known_model_type_with_auto_map_uses_the_built_in_class(corpus, index):
    report = diagnose_model(str(corpus / "qwen1.5-moe-8x0.5b-chat-remote"), index)
    assert "remote-code-available" in codes(report) and "remote-code" not in codes(report)


def test_missing_model_type_prediction_matches_the_real_error(tmp_path, index):
    from transformers import AutoConfig

    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 32}))
    assert codes(diagnose_model(str(tmp_path), index))[0] == "no-model-type"
    said = transformers_says(lambda: AutoConfig.from_pretrained(tmp_path))
    assert codes(diagnose_text(said, index)) == ["no-model-type"]


def test_unreachable_references_are_findings(tmp_path, index):
    assert codes(diagnose_model(str(tmp_path), index)) == ["no-config"]
    assert codes(diagnose_model(str(tmp_path / "absent"), index)) == ["not-found"]


def test_hub_model_not_cached_offline_is_an_error_line():
    result = run_amx_preloaded("doctor", "some-org/not-cached-anywhere")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: HF_HUB_OFFLINE is set")


@pytest.mark.parametrize("slug", corpus_slugs())
def test_every_corpus_config_gets_a_verdict(slug, corpus, index):
    from transformers import CONFIG_MAPPING

    report = diagnose_model(str(corpus / slug), index)
    assert report.verdict in ("fail", "warn") and "no-weights" in codes(report)  # the corpus has configs only
    model_type = json.loads((corpus / slug / "config.json").read_text()).get("model_type")
    unknown = model_type not in CONFIG_MAPPING
    assert ("unknown-model-type" in codes(report) or "remote-code" in codes(report)) == unknown


# --- recognising transformers' own messages --------------------------------------------------------------


@pytest.fixture(scope="module")
def real_messages(bert_mlm, tmp_path_factory) -> dict[str, str]:
    """Messages produced by really running transformers."""
    import torch
    from transformers import (
        AutoConfig,
        AutoModel,
        AutoModelForSequenceClassification,
        BertConfig,
        GPT2Config,
    )

    config_only = tmp_path_factory.mktemp("config-only")
    BertConfig(**TINY_BERT).save_pretrained(config_only)
    base = AutoModel.from_config(BertConfig(**TINY_BERT))
    return {
        "size-mismatch": transformers_says(
            lambda: AutoModelForSequenceClassification.from_pretrained(bert_mlm, vocab_size=100)),
        "model-type-mismatch": transformers_says(lambda: GPT2Config.from_pretrained(config_only)),
        "hub-unreachable": transformers_says(lambda: AutoConfig.from_pretrained("some-org/not-cached-anywhere")),
        "strict-load": transformers_says(lambda: base.load_state_dict({"x": torch.zeros(1)})),
    }


def test_real_messages_are_recognised(real_messages, index):
    assert codes(diagnose_text(real_messages["size-mismatch"], index))[0] == "size-mismatch"
    assert diagnose_text(real_messages["size-mismatch"], index).findings[0].severity == "error"
    assert codes(diagnose_text(real_messages["model-type-mismatch"], index)) == ["model-type-mismatch"]
    assert codes(diagnose_text(real_messages["hub-unreachable"], index)) == ["hub-unreachable"]
    strict = diagnose_text(real_messages["strict-load"], index)
    assert codes(strict) == ["new-weights", "unused-weights"] and strict.verdict == "fail"


# Pillow comes with the test extras, so transformers runs in a process where it cannot be imported.
WITHOUT_PILLOW = """
import sys, traceback
sys.modules["PIL"] = None
from transformers import AutoImageProcessor
try:
    AutoImageProcessor.from_pretrained(sys.argv[1])
except Exception as error:
    print("".join(traceback.format_exception(error)))
"""


def test_missing_dependency_message(index):
    said = subprocess.run([sys.executable, "-c", WITHOUT_PILLOW, str(EXAMPLES / "vit-base-patch16-224")],
                          capture_output=True, text=True, timeout=120, check=True).stdout
    assert "requires the PIL library" in said
    (finding,) = diagnose_text(said, index).findings
    assert finding.code == "missing-dependency" and finding.fix == "pip install pillow"


# Wording of messages that need the real Hub, copied from transformers 5.23 (utils/hub.py),
# huggingface_hub 2.4 (utils/_http.py) and transformers 4.x, which many users still run.
QUOTED = {
    "repo-not-found": "OSError: bert-base-uncasd is not a local folder and is not a valid model identifier listed on "
                      "'https://huggingface.co/models'\nIf this is a private repository, make sure to pass a token "
                      "having permission to this repo either by logging in with `hf auth login` or by passing "
                      "`token=<your_token>`",
    "gated-repo": "OSError: You are trying to access a gated repo.\nMake sure to have access to it at "
                  "https://huggingface.co/meta-llama/Llama-3.1-8B.\n401 Client Error.\n\nCannot access gated repo for "
                  "url https://huggingface.co/meta-llama/Llama-3.1-8B/resolve/main/config.json.",
    "revision-not-found": "OSError: v9 is not a valid git identifier (branch name, tag name or commit id) that exists "
                          "for this model name. Check the model page at 'https://huggingface.co/gpt2' for available "
                          "revisions.",
    "no-config": "OSError: org/model does not appear to have a file named config.json. Checkout "
                 "'https://huggingface.co/org/model/tree/main' for available files.",
    "new-weights": "Some weights of BertForSequenceClassification were not initialized from the model checkpoint at "
                   "bert-base-uncased and are newly initialized: ['classifier.bias', 'classifier.weight']\nYou should "
                   "probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.",
    "unused-weights": "Some weights of the model checkpoint at bert-base-uncased were not used when initializing "
                      "BertModel: ['cls.predictions.bias', 'cls.seq_relationship.weight']\n- This IS expected if you "
                      "are initializing BertModel from the checkpoint of a model trained on another task",
    "unknown-tokenizer": "ValueError: Tokenizer class QWenTokenizer does not exist or is not currently imported.",
    "remote-code": "ValueError: Loading THUDM/chatglm3-6b requires you to execute the configuration file in that repo "
                   "on your local machine. Make sure you have read the code there to avoid malicious use, then set "
                   "the option `trust_remote_code=True` to remove this error.",
    "pickle-weights": "ValueError: Due to a serious vulnerability issue in `torch.load`, even with `weights_only=True`, "
                      "we now require users to upgrade torch to at least v2.6 in order to use the function.",
}


@pytest.mark.parametrize("code", sorted(QUOTED))
def test_quoted_messages_are_recognised(code, index):
    assert codes(diagnose_text(QUOTED[code], index)) == [code]


def test_old_transformers_keyerror_on_a_model_type_known_here(index):
    report = diagnose_text("Traceback (most recent call last):\n  ...\nKeyError: 'qwen2'\n", index)
    assert codes(report) == ["unknown-model-type"] and "knows it" in report.findings[0].message


def test_unrecognised_errors_and_clean_logs(index):
    assert codes(diagnose_text("Traceback (most recent call last):\nZeroDivisionError: x", index)) == [
        "unrecognised-error"]
    assert diagnose_text("Loading weights: 100%|██████████| 37/37\nall good", index).verdict == "ok"


def test_piped_text_and_exit_codes():
    said = QUOTED["gated-repo"]
    result = run_amx_preloaded("doctor", "--json", input_text=said)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["subject"] == "error text" and data["findings"][0]["code"] == "gated-repo"
    assert "meta-llama/Llama-3.1-8B" in data["findings"][0]["message"]
    assert run_amx_preloaded("doctor", input_text="all good\n").returncode == 0
    empty = run_amx_preloaded("doctor", input_text="")
    assert empty.returncode == 2 and "nothing to diagnose" in empty.stderr


def test_bad_combinations_are_bad_input(bert_mlm):
    assert runner.invoke(app, ["doctor", str(bert_mlm), "--error", "x"]).exit_code == 2
    assert runner.invoke(app, ["doctor", "--error", "x", "--head", "AutoModel"]).exit_code == 2


def test_hostile_text_is_bounded_and_shown_literally():
    huge = "a" * 3_000_000 + " is not a valid git identifier" + "\n" * 1_000_000 + "x | MISSING" * 1000
    result = run_amx_preloaded("doctor", "--json", input_text="LOAD REPORT\n" + huge, timeout=60)
    assert result.returncode in (0, 1) and json.loads(result.stdout)["schema"] == "amx.doctor/1"
    evil = "OSError: [bold red]X[/bold red]\x1b[31m is not a local folder and is not a valid model identifier"
    shown = run_amx_preloaded("doctor", "--error", evil)
    assert "[bold red]X[/bold red]" in shown.stdout and "\x1b" not in shown.stdout


def test_help_has_examples():
    result = runner.invoke(app, ["doctor", "--help"])
    assert result.exit_code == 0
    assert "amx doctor gpt2 --head AutoModelForImageClassification" in result.output
    assert "--error" in result.output


def test_doctor_does_not_import_torch_or_transformers(bert_mlm):
    run_amx_preloaded("doctor", str(bert_mlm))  # make sure the index is cached
    code = (
        "import sys; from typer.testing import CliRunner; from automodel_cli.cli import app;"
        f"r = CliRunner().invoke(app, ['doctor', {str(bert_mlm)!r}, '--head', 'AutoModelForImageClassification']);"
        "assert r.exit_code == 1, r.output;"
        f"r = CliRunner().invoke(app, ['doctor', '--error', {QUOTED['new-weights']!r}]); assert r.exit_code == 1;"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


# --- Hub models, through the real local Hub server -------------------------------------------------------


@pytest.fixture(scope="module")
def hub(local_hub, tiny_bert_repo, tiny_bert_dir):
    local_hub.add_repo("amx-test/doctor-no-config", {"README.md": "no config.json here\n"})
    config = tiny_bert_dir / "config.json"
    local_hub.add_repo("amx-test/doctor-pickle", {"config.json": config, "pytorch_model.bin": b"not opened"})
    local_hub.add_repo("amx-test/doctor-config-only", {"config.json": config, "tf_model.h5": b"not opened"})
    return local_hub


def test_hub_model_is_diagnosed_from_its_config(hub, tiny_bert_repo):
    result = run_amx_preloaded("doctor", tiny_bert_repo, "--json", env=hub.env())
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert (data["verdict"], data["head"], data["model_class"]) == (
        "ok", "AutoModelForSequenceClassification", "BertForSequenceClassification")
    unsupported = run_amx_preloaded("doctor", tiny_bert_repo, "--head", "AutoModelForImageClassification", env=hub.env())
    assert unsupported.returncode == 1 and "unsupported-head" in unsupported.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("amx-test/does-not-exist",), "repo-not-found"),
        (("amx-test/doctor-no-config",), "no-config"),
        (("amx-test/tiny-bert-cls", "--revision", "no-such-branch"), "revision-not-found"),
    ],
    ids=["repository", "config", "revision"],
)
def test_unreachable_hub_repositories_are_findings(hub, args, code):
    result = run_amx_preloaded("doctor", *args, "--json", env=hub.env())
    assert result.returncode == 1, result.stderr
    assert [finding["code"] for finding in json.loads(result.stdout)["findings"]] == [code]


def test_a_head_mapped_to_the_checkpoint_class_is_clean(index):
    """bart's MaskedLM head builds BartForConditionalGeneration, the very class of the checkpoint."""
    report = diagnose_model(str(EXAMPLES / "bart-large-cnn"), index, head="AutoModelForMaskedLM")
    assert report.model_class == "BartForConditionalGeneration" and codes(report) == ["no-weights"]


@pytest.mark.parametrize(("repo", "code"), [("amx-test/doctor-pickle", "pickle-weights"),
                                            ("amx-test/doctor-config-only", "no-weights")])
def test_hub_weight_files_are_listed(hub, repo, code):
    result = run_amx_preloaded("doctor", repo, "--json", env=hub.env())
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [finding["code"] for finding in findings] == [code]
    assert code != "no-weights" or "TensorFlow" in findings[0]["message"]


def test_a_truncated_safetensors_file_is_a_failure_like_the_real_load(bert_mlm, tmp_path, index):
    from transformers import AutoModelForMaskedLM

    (tmp_path / "config.json").write_text((bert_mlm / "config.json").read_text())
    (tmp_path / "model.safetensors").write_bytes((bert_mlm / "model.safetensors").read_bytes()[:100])
    report = diagnose_model(str(tmp_path), index)
    assert codes(report) == ["bad-weights"] and report.verdict == "fail"
    said = transformers_says(lambda: AutoModelForMaskedLM.from_pretrained(tmp_path))
    assert codes(diagnose_text(said, index)) == ["bad-weights"]  # transformers fails on it too


def load_in_subprocess(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    """Run `code` (a real transformers load) with `env`, as the user's own script would run."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT)}, timeout=300)


@pytest.mark.parametrize("cut_off", ["offline", "refused"])
def test_a_cached_config_without_weights_is_not_a_clean_verdict(hub, tiny_bert_repo, tmp_path, cut_off):
    """`amx heads` caches config.json only; without the Hub from_pretrained finds no weights: never ✓ nor pass."""
    from support.localhub import free_port

    env = hub.env(tmp_path / "hf-home")
    assert run_amx_preloaded("heads", tiny_bert_repo, env=env).returncode == 0
    env |= {"HF_HUB_OFFLINE": "1"} if cut_off == "offline" else {"HF_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    # huggingface_hub retries a refused connection with backoff (about 23 s a file, ~140 s in all): the
    # load's outcome is the same without its waits, so they are skipped.
    load = load_in_subprocess(env, "import huggingface_hub.utils._http as http, types\n"
                                   "http.time = types.SimpleNamespace(sleep=lambda seconds: None)\n"
                                   "from transformers import AutoModelForSequenceClassification as A\n"
                                   f"A.from_pretrained({tiny_bert_repo!r})")
    assert load.returncode != 0 and "OSError" in load.stderr
    human = run_amx_preloaded("doctor", tiny_bert_repo, env=env)
    assert human.returncode == 3, human.stdout + human.stderr
    assert "? weights-not-checked" in human.stdout and "✓" not in human.stdout
    assert "could not be checked" in human.stdout.splitlines()[-1]
    data = json.loads(run_amx_preloaded("doctor", tiny_bert_repo, "--json", env=env).stdout)
    assert data["verdict"] == "unknown"
    assert [(f["code"], f["severity"]) for f in data["findings"]] == [("weights-not-checked", "unchecked")]
    check = run_amx_preloaded("check", tiny_bert_repo, "--json", env=env)
    assert check.returncode == 3
    model = json.loads(check.stdout)["models"][0]
    assert model["status"] == "error" and model["reason"].startswith("could not check the weights")
    assert "could not be checked" in run_amx_preloaded("check", tiny_bert_repo, env=env).stdout


@pytest.fixture(scope="module")
def variant_models(tmp_path_factory) -> dict[str, Path]:
    """A tiny BertForMaskedLM saved with variant="fp16", in one file and in shards."""
    from support.tiny_models import save_tiny, tiny_config

    root = tmp_path_factory.mktemp("variants")
    config = tiny_config("bert", architectures=["BertForMaskedLM"])
    return {"single": save_tiny("BertForMaskedLM", config, root / "single", variant="fp16"),
            "sharded": save_tiny("BertForMaskedLM", config, root / "sharded", variant="fp16", max_shard_size="20KB")}


@pytest.mark.parametrize("layout", ["single", "sharded"])
def test_variant_weights_need_variant_like_the_real_load(variant_models, layout, index):
    from transformers import AutoModelForMaskedLM

    model = variant_models[layout]
    assert "OSError" in transformers_says(lambda: AutoModelForMaskedLM.from_pretrained(model))
    _, info = AutoModelForMaskedLM.from_pretrained(model, variant="fp16", output_loading_info=True)
    assert not any(info.values())
    human = run_amx_preloaded("doctor", str(model))
    assert human.returncode == 1 and "variant-required" in human.stdout
    assert "variant='fp16'" in human.stdout and "--variant fp16" in human.stdout
    assert "another" not in human.stdout and "does not load" not in human.stdout
    exit_code, data = doctor_json(str(model))
    assert (exit_code, [f["code"] for f in data["findings"]]) == (1, ["variant-required"])
    exit_code, data = doctor_json(str(model), "--variant", "fp16")
    assert (exit_code, data["verdict"], data["findings"]) == (0, "ok", [])
    clean = run_amx_preloaded("doctor", str(model), "--variant", "fp16")
    assert clean.returncode == 0 and "✓ the load would succeed cleanly" in clean.stdout
    # key by key from the variant's headers: the sequence-classification head's new weights, exactly
    _, real = __import__("transformers").AutoModelForSequenceClassification.from_pretrained(
        model, variant="fp16", output_loading_info=True)
    report = diagnose_model(str(model), index, head="AutoModelForSequenceClassification", variant="fp16")
    assert keys_of(report, "new-weights") == set(real["missing_keys"])


def test_a_variant_that_is_not_there_is_named_like_the_real_error(variant_models, index):
    from transformers import AutoModelForMaskedLM

    model = variant_models["single"]
    assert "OSError" in transformers_says(lambda: AutoModelForMaskedLM.from_pretrained(model, variant="bf16"))
    report = diagnose_model(str(model), index, variant="bf16")
    assert codes(report) == ["no-weights"] and "'bf16'" in report.findings[0].message
    assert report.findings[0].fix == "load it with variant='fp16'"
    assert run_amx_preloaded("doctor", str(model), "--variant", "../x").returncode == 2


def test_inspect_and_check_take_the_variant(variant_models, tmp_path):
    model = variant_models["sharded"]
    inspected = json.loads(run_amx_preloaded("inspect", str(model), "--variant", "fp16", "--json").stdout)
    assert inspected["source"] == "safetensors" and len(inspected["checkpoint_files"]) == 5
    heads = json.loads(run_amx_preloaded("heads", str(model), "--check-weights", "--variant", "fp16", "--json").stdout)
    assert [h["new_weights"] for h in heads["heads"] if h["native"]] == [False]
    (tmp_path / "amx.toml").write_text(f'[[models]]\nmodel = "{model}"\nvariant = "bf16"\nrequire-safetensors = true\n'
                                       f'[[models]]\nmodel = "{variant_models["single"]}"\nvariant = "fp16"\n'
                                       'require-safetensors = true\n')
    result = run_amx_preloaded("check", "--json", cwd=tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert [m["status"] for m in json.loads(result.stdout)["models"]] == ["error", "pass"]
    assert run_amx_preloaded("check", str(model), "--variant", "fp16", "--require-safetensors").returncode == 0


def test_an_architecture_transformers_lacks_is_said_not_silently_replaced(tmp_path, index):
    """architectures names no class of transformers: heads says so, and so must doctor, key by key below it."""
    from support.tiny_models import save_tiny, tiny_config
    from transformers import AutoModel

    model = save_tiny("LlamaForCausalLM", tiny_config("llama"), tmp_path / "superres")
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "architectures": ["LlamaForSuperResolution"]}))
    assert "architectures[0] 'LlamaForSuperResolution' is not a class" in run_amx_preloaded("heads", str(model)).stdout
    _, real = AutoModel.from_pretrained(model, output_loading_info=True)
    exit_code, data = doctor_json(str(model))
    assert (exit_code, data["verdict"], data["head"]) == (1, "warn", "AutoModel")
    findings = {finding["code"]: finding for finding in data["findings"]}
    assert findings["unknown-architecture"]["severity"] == "warning"
    assert "'LlamaForSuperResolution'" in findings["unknown-architecture"]["message"]
    assert set(findings["unused-weights"]["keys"]) == set(real["unexpected_keys"])
    human = run_amx_preloaded("doctor", str(model))
    assert "! unknown-architecture: architectures[0] 'LlamaForSuperResolution'" in human.stdout
    assert "fix: pass --head" in human.stdout
    asked = diagnose_model(str(model), index, head="AutoModelForCausalLM")
    assert (asked.verdict, [(f.code, f.severity) for f in asked.findings]) == ("ok", [("unknown-architecture", "info")])


def test_two_pasted_load_reports_are_each_diagnosed_on_their_own(tiny_bert_dir, tmp_path, index):
    """A BertForTokenClassification size mismatch, then a GPT2ForSequenceClassification with score.weight
    MISSING: each report's keys stay with its own class."""
    from support.tiny_models import save_tiny, tiny_config
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    gpt2 = save_tiny("GPT2LMHeadModel", tiny_config("gpt2", architectures=["GPT2LMHeadModel"]), tmp_path / "gpt2")
    bert_log = transformers_says(lambda: AutoModelForTokenClassification.from_pretrained(
        tiny_bert_dir, num_labels=5, ignore_mismatched_sizes=True))
    gpt2_log = transformers_says(lambda: AutoModelForSequenceClassification.from_pretrained(gpt2))
    assert "BertForTokenClassification LOAD REPORT" in bert_log and "GPT2ForSequenceClassification" in gpt2_log
    report = diagnose_text(bert_log + gpt2_log, index)
    by_code = {finding.code: finding for finding in report.findings}
    assert set(by_code) == {"size-mismatch", "new-weights", "unused-weights"}
    assert "BertForTokenClassification has no place for" in by_code["unused-weights"].message
    assert {key for key in by_code["size-mismatch"].keys} == {"classifier.weight", "classifier.bias"}
    assert by_code["new-weights"].message.startswith("GPT2ForSequenceClassification would start with")
    assert by_code["new-weights"].keys == ["score.weight"]
    human = run_amx_preloaded("doctor", input_text=bert_log + gpt2_log)
    assert "BertForTokenClassification would start" not in human.stdout
    assert "GPT2ForSequenceClassification would start with newly initialised (random) weights: score.weight" \
        in human.stdout
    data = json.loads(run_amx_preloaded("doctor", "--json", input_text=gpt2_log + gpt2_log.replace("score.weight", "x.weight")
                              ).stdout)
    assert [finding["keys"] for finding in data["findings"]] == [["score.weight"], ["x.weight"]]


def test_a_patch_release_is_not_newer_and_a_dev_build_is_not_sent_to_pypi(bert_mlm, tmp_path, index):
    """5.x.(y+1) wrote the config: the installed 5.x.y loads it as cleanly as its own (patch releases add no
    settings); a .dev0 writer is newer, and the fix installs what exists, never 'transformers>=5.y.0.dev0'."""
    from packaging.version import Version
    from transformers import AutoModelForMaskedLM

    major, minor, patch = Version(index.transformers_version).release[:3]
    config = json.loads((bert_mlm / "config.json").read_text())
    (tmp_path / "model.safetensors").symlink_to(bert_mlm / "model.safetensors")
    patched, dev = f"{major}.{minor}.{patch + 1}", f"{major}.{minor + 1}.0.dev0"
    for written_by in (patched, dev):
        (tmp_path / "config.json").write_text(json.dumps({**config, "transformers_version": written_by}))
        _, info = AutoModelForMaskedLM.from_pretrained(tmp_path, output_loading_info=True)
        assert not any(info.values())
        exit_code, data = doctor_json(str(tmp_path))
        if written_by == patched:
            assert (exit_code, data["verdict"], data["findings"]) == (0, "ok", [])
            continue
        assert Version(dev).is_devrelease and exit_code == 1
        (finding,) = data["findings"]
        assert finding["code"] == "newer-transformers" and f">={dev}" not in finding["fix"]
        assert f"transformers>={major}.{minor + 1}.0' once it is released" in finding["fix"]
        assert "git+https://github.com/huggingface/transformers" in finding["fix"]


@pytest.mark.parametrize("name", ["model.safetensors", "adapter_config.json"])
def test_a_file_inside_a_model_folder_asks_for_the_folder(name, tmp_path):
    from peft import LoraConfig, get_peft_model
    from support.tiny_models import save_tiny, tiny_config
    from transformers import AutoModelForCausalLM

    base = save_tiny("LlamaForCausalLM", tiny_config("llama"), tmp_path / "base")
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), LoraConfig(target_modules=["q_proj"])).save_pretrained(
        tmp_path / "adapter")
    folder = (base if name == "model.safetensors" else tmp_path / "adapter")
    with pytest.raises((OSError, ValueError)):
        AutoModelForCausalLM.from_pretrained(folder / name)
    AutoModelForCausalLM.from_pretrained(folder)
    for command in ("heads", "doctor", "inspect"):
        result = run_amx_preloaded(command, str(folder / name))
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            f"error: {folder / name} is a file of a model, not its config.json: pass the model's folder",
            f"hint: pass {folder} instead: from_pretrained takes the folder, not a file in it"]
    assert json.loads(run_amx_preloaded("heads", str(folder), "--json").stdout)["model_type"] == "llama"


def test_a_relative_adapter_base_says_where_it_was_looked_for(tmp_path):
    """transformers resolves a relative base_model_name_or_path from the current directory, not the adapter's."""
    from peft import LoraConfig, get_peft_model
    from support.tiny_models import save_tiny, tiny_config
    from transformers import AutoModelForCausalLM

    base = save_tiny("LlamaForCausalLM", tiny_config("llama"), tmp_path / "models" / "base")
    adapter = tmp_path / "models" / "adapter"
    get_peft_model(AutoModelForCausalLM.from_pretrained(base), LoraConfig(target_modules=["q_proj"])).save_pretrained(
        adapter)
    config = json.loads((adapter / "adapter_config.json").read_text())
    (adapter / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": "models/base"}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = f"from transformers import AutoModelForCausalLM as A\nA.from_pretrained({str(adapter)!r})"
    for cwd, loads in ((tmp_path, True), (elsewhere, False)):
        real = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, timeout=300,
                              env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
        assert (real.returncode == 0) == loads
    assert run_amx_preloaded("heads", str(adapter), cwd=tmp_path).returncode == 0
    lost = run_amx_preloaded("heads", str(adapter), cwd=elsewhere)
    assert lost.returncode == 1
    assert f"no such folder from the current directory {elsewhere}, where a relative base is looked for " \
           f"(it is one from {tmp_path}: run from there" in lost.stderr
    assert "as a Hub id: HF_HUB_OFFLINE is set" in lost.stderr


def test_a_head_trained_for_another_task_is_named(tiny_bert_dir, index):
    """A sentence classifier's classifier.* fits BertForTokenClassification (same num_labels): transformers loads
    it silently as the token classifier; doctor says whose head it is."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForTokenClassification

    model, info = AutoModelForTokenClassification.from_pretrained(tiny_bert_dir, output_loading_info=True)
    saved = load_file(tiny_bert_dir / "model.safetensors")
    reused = sorted(name for name in saved if name.startswith("classifier.")
                    and torch.equal(model.state_dict()[name], saved[name]))
    assert reused == ["classifier.bias", "classifier.weight"] and not info["missing_keys"]
    exit_code, data = doctor_json(str(tiny_bert_dir), "--head", "ner")
    finding = next(f for f in data["findings"] if f["code"] == "head-from-another-task")
    assert (exit_code, finding["severity"], sorted(finding["keys"])) == (1, "warning", reused)
    assert "trained for sequence classification" in finding["message"]
    assert "load it with AutoModelForSequenceClassification" in finding["fix"]
    human = run_amx_preloaded("doctor", str(tiny_bert_dir), "--head", "ner").stdout
    assert "! head-from-another-task: BertForTokenClassification would load head weights trained for " \
           "sequence classification" in human
    for clean in ("AutoModelForSequenceClassification", "AutoModel", "AutoModelForQuestionAnswering"):
        assert "head-from-another-task" not in codes(diagnose_model(str(tiny_bert_dir), index, head=clean))
