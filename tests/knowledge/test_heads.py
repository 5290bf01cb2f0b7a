"""`amx heads`: the reported heads must be exactly what transformers' Auto classes accept."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from support import EXAMPLES, corpus_slugs, run_amx
from typer.testing import CliRunner

from automodel_cli.base.errors import ConfigError, UnsupportedModelError
from automodel_cli.cli import app
from automodel_cli.files.config_reader import read_config
from automodel_cli.knowledge.head_index import build_index, load_index
from automodel_cli.knowledge.heads import heads_for_config
from automodel_cli.knowledge.tasks import GENERATION, short_name, task_info

runner = CliRunner()


@pytest.fixture(scope="module")
def index():
    return load_index()


@pytest.fixture(scope="module")
def auto_classes():
    from transformers.models.auto import modeling_auto

    return {name: getattr(modeling_auto, name) for name in load_index().auto_classes}


def accepted_by_transformers(model_type: str, auto_classes: dict) -> set[str]:
    """What AutoXxx.from_config checks first: `type(config) in AutoXxx._model_mapping`."""
    from transformers import CONFIG_MAPPING

    config_class = CONFIG_MAPPING[model_type]
    return {name for name, auto in auto_classes.items() if config_class in auto._model_mapping}


def reported(report) -> set[str]:
    return {head.auto_class for head in report.heads if not head.remote_code}


def test_index_lists_every_auto_model_class(index, auto_classes):
    assert len(index.auto_classes) >= 40  # 41 in transformers 5.0
    assert {"AutoModel", "AutoModelForCausalLM", "AutoModelForImageTextToText"} <= set(index.auto_classes)


def test_cached_index_equals_a_fresh_build(index):
    assert build_index() == index


@pytest.mark.parametrize("slug", corpus_slugs())
def test_corpus_heads_match_transformers(slug, corpus, index, auto_classes):
    config = read_config(corpus / slug / "config.json")
    from transformers import CONFIG_MAPPING

    if config.model_type not in CONFIG_MAPPING:
        report = _report_or_unsupported(config, index)
        assert report is None or all(head.remote_code for head in report.heads)
        return
    report = heads_for_config(config, index, slug)
    assert reported(report) == accepted_by_transformers(config.model_type, auto_classes)


def _report_or_unsupported(config, index):
    try:
        return heads_for_config(config, index, "x")
    except UnsupportedModelError:
        assert not config.auto_map
        return None


def test_every_known_model_type_default_config(tmp_path, index, auto_classes):
    """A config-only default of every model_type transformers knows, written to disk and read back."""
    from transformers import CONFIG_MAPPING

    mismatches = []
    model_types = list(CONFIG_MAPPING.keys())
    assert len(model_types) > 300
    for model_type in model_types:
        try:
            raw = CONFIG_MAPPING[model_type]().to_dict()
        except Exception:  # some configs need arguments; the model_type alone is what amx reads
            raw = {}
        raw["model_type"] = model_type
        path = tmp_path / f"{model_type}.json"
        path.write_text(json.dumps(raw, default=str))
        report = heads_for_config(read_config(path), index, model_type)
        expected = accepted_by_transformers(model_type, auto_classes)
        if reported(report) != expected:
            mismatches.append((model_type, sorted(reported(report) ^ expected)))
    assert mismatches == []


@pytest.mark.parametrize("slug", corpus_slugs())
def test_corpus_native_head_builds_on_meta_device(slug, corpus, index, auto_classes):
    """Known model types: every built-in head names the class transformers builds, and the native one builds.
    Model types only the repository's code knows: every head is that code (never imported), and the native one
    is the class `architectures` names."""
    import torch
    from transformers import CONFIG_MAPPING
    from transformers.models.auto.auto_factory import _get_model_class

    config_file = read_config(corpus / slug / "config.json")
    report = heads_for_config(config_file, index, slug)
    known = config_file.model_type in CONFIG_MAPPING
    if not known:
        assert config_file.auto_map and report.heads and all(head.remote_code for head in report.heads)
    else:
        raw = {k: v for k, v in config_file.raw.items() if k not in ("auto_map", "quantization_config")}
        config = CONFIG_MAPPING[config_file.model_type].from_dict(raw)
        for head in report.heads:
            if head.remote_code:
                continue
            try:
                built_class = _get_model_class(config, auto_classes[head.auto_class]._model_mapping)
            except ImportError:  # a class needing an optional backend (timm, ...) that is not installed
                continue
            assert head.model_class == built_class.__name__
    if report.native_head is None:
        assert not config_file.architectures or config_file.architectures[0] not in {h.model_class for h in report.heads}
        return
    native = next(h for h in report.heads if h.native)
    if native.remote_code:  # the repository's own class: amx never imports it
        assert native.model_class.rpartition(".")[2] == config_file.architectures[0]
        return
    assert native.model_class == config_file.architectures[0]
    if slug in CONFIGS_TRANSFORMERS_REJECTS:
        with pytest.raises(ValueError, match=CONFIGS_TRANSFORMERS_REJECTS[slug]), torch.device("meta"):
            auto_classes[native.auto_class].from_config(config)
        return
    if config_file.raw.get("use_timm_backbone") and importlib.util.find_spec("timm") is None:
        # DETR's timm backbone: transformers refuses the build, naming the library (not a test-extras dependency).
        with pytest.raises(ImportError, match="requires the timm library"), torch.device("meta"):
            auto_classes[native.auto_class].from_config(config)
        return
    with torch.device("meta"):
        model = auto_classes[native.auto_class].from_config(config)
    assert type(model).__name__ == native.model_class


# Real configs that transformers itself refuses to build (the head is right; the config is not).
CONFIGS_TRANSFORMERS_REJECTS = {
    # BLIP's text config adds cross-attention to a BertModel that is not a decoder.
    "blip-med-config-bert": "should be used as a decoder model if cross attention is added",
}


@pytest.mark.parametrize(
    ("example", "native"),
    [
        ("gpt2", "AutoModelForCausalLM"),
        ("bert-base-uncased", "AutoModelForMaskedLM"),
        ("distilbert-base-uncased-distilled-squad", "AutoModelForQuestionAnswering"),
        ("bart-large-cnn", "AutoModelForSeq2SeqLM"),
        ("t5-small", "AutoModelForSeq2SeqLM"),
        ("qwen2.5-vl-7b-instruct", "AutoModelForImageTextToText"),
        ("whisper-medium", "AutoModelForSpeechSeq2Seq"),
        ("vit-base-patch16-224", "AutoModelForImageClassification"),
        ("bert-ner", "AutoModelForTokenClassification"),
        ("distilbert-sst2", "AutoModelForSequenceClassification"),
        ("opus-mt-en-hi", "AutoModelForSeq2SeqLM"),
        ("llama-3-8b", "AutoModelForCausalLM"),
    ],
)
def test_native_head_of_well_known_models(example, native, index):
    report = heads_for_config(read_config(EXAMPLES / example / "config.json"), index, example)
    assert report.native_head == native
    assert [h.auto_class for h in report.heads if h.native] == [native]


def test_new_weights_are_predicted_per_head(index):
    report = heads_for_config(read_config(EXAMPLES / "bert-base-uncased" / "config.json"), index, "bert")
    by_auto = {h.auto_class: h for h in report.heads}
    assert by_auto["AutoModelForSequenceClassification"].new_weights is True
    assert by_auto["AutoModelForMaskedLM"].new_weights is False
    assert by_auto["AutoModel"].new_weights is False


def test_config_without_architectures_has_no_native_head(corpus, index):
    report = heads_for_config(read_config(corpus / "deberta-v3-large" / "config.json"), index, "d")
    assert report.native_head is None
    assert report.heads and all(h.new_weights is None for h in report.heads)
    assert any("no architectures" in note for note in report.notes)


def test_remote_code_heads_come_from_auto_map_and_nothing_is_imported(corpus, index):
    report = heads_for_config(read_config(corpus / "minimind2-remote" / "config.json"), index, "m")
    assert [(h.auto_class, h.model_class, h.remote_code, h.native) for h in report.heads] == [
        ("AutoModelForCausalLM", "model.MiniMindLM", True, True)
    ]


def test_known_model_type_with_auto_map_lists_both(corpus, index):
    report = heads_for_config(read_config(corpus / "qwen1.5-moe-8x0.5b-chat-remote" / "config.json"), index, "q")
    remote = {h.auto_class for h in report.heads if h.remote_code}
    assert remote == {"AutoModel", "AutoModelForCausalLM", "AutoModelForSeq2SeqLM"}
    assert report.native_head == "AutoModelForCausalLM"
    assert next(h for h in report.heads if h.native).remote_code is False


def test_unknown_model_type_names_the_transformers_version(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "no-such-model", "architectures": ["X"]}))
    result = run_amx("heads", str(tmp_path))
    assert result.returncode == 1
    assert "'no-such-model' is not known to the installed transformers 5." in result.stderr
    assert "upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_model_type_is_bad_input(tmp_path, index):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(ConfigError, match="no model_type"):
        heads_for_config(read_config(tmp_path / "config.json"), index, "x")


def test_cli_human_output_marks_native_head():
    result = runner.invoke(app, ["heads", str(EXAMPLES / "bert-base-uncased")])
    assert result.exit_code == 0, result.output
    assert "★ native head: AutoModelForMaskedLM" in result.output
    assert "BertForSequenceClassification" in result.output


def test_cli_json_schema():
    result = runner.invoke(app, ["heads", str(EXAMPLES / "gpt2"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "amx.heads/1"
    assert data["model_type"] == "gpt2" and data["architectures"] == ["GPT2LMHeadModel"]
    assert data["transformers_version"].startswith("5.")
    assert set(data) >= {"model", "model_type", "architectures", "transformers_version", "heads", "native_head"}
    for head in data["heads"]:
        assert set(head) >= {"auto_class", "model_class", "task", "native", "remote_code", "new_weights"}
    assert [h["auto_class"] for h in data["heads"] if h["native"]] == ["AutoModelForCausalLM"]


def test_markup_and_escapes_in_config_are_shown_literally(tmp_path):
    evil = "[bold red]X[/bold red]\x1b[31m"
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": [evil]}))
    result = run_amx("heads", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "[bold red]X[/bold red]" in result.stdout
    assert "\x1b[31m" not in result.stdout


def test_heads_does_not_import_torch_or_transformers(tmp_path):
    run_amx("heads", str(EXAMPLES / "gpt2"))  # make sure the index is cached
    code = (
        "import sys; from typer.testing import CliRunner; from automodel_cli.cli import app;"
        f"r = CliRunner().invoke(app, ['heads', {str(EXAMPLES / 'gpt2')!r}]); assert r.exit_code == 0, r.output;"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_base_model_checkpoint_is_native_to_automodel(corpus, index):
    report = heads_for_config(read_config(corpus / "bge-large-zh-v1.5" / "config.json"), index, "bge")
    assert report.native_head == "AutoModel"


# The head the Hub's "Use this model" offers for each corpus checkpoint (None: no architectures, or a
# class no Auto head builds). Several Auto classes map most of these classes; only one is native.
CORPUS_NATIVE_HEADS = {
    "banglabert-electra-sentiment": "AutoModelForSequenceClassification",
    "bart-large-cnn-saved": "AutoModelForSeq2SeqLM",
    "bart-large-finetuned-titles": "AutoModelForSeq2SeqLM",
    "beit-cervical-cls": "AutoModelForImageClassification",
    "bert-base-uncased-seqcls-tv4.5": "AutoModelForSequenceClassification",
    "bert-ner-finetuned": "AutoModelForTokenClassification",
    "bge-large-zh-v1.5": "AutoModel",
    "blip-image-captioning-base": "AutoModelForImageTextToText",
    "blip-med-config-bert": "AutoModel",
    "bunny-phi-2-siglip": "AutoModelForCausalLM",
    "chatglm3-6b-base-kolors": None,
    "chinese-hubert-base": "AutoModel",
    "chinese-roberta-wwm-ext-large": "AutoModelForMaskedLM",
    "clap-htsat-fused": "AutoModel",
    "clip-vit-bigg-14-text-stable-cascade": None,
    "convnext-maize-leaf-disease": "AutoModelForImageClassification",
    "deberta-v2-large-japanese-char-wwm": "AutoModelForMaskedLM",
    "deberta-v3-large": None,
    "detr-resnet-50": "AutoModelForObjectDetection",
    "distilbert-base-jp-2020": None,
    "distilbert-base-uncased-distilled-squad": "AutoModelForQuestionAnswering",
    "distilbert-prompt-injection-tv5": "AutoModelForSequenceClassification",
    "distilbert-qa-adversarialqa": "AutoModelForQuestionAnswering",
    "ernie-3.0-base-zh": "AutoModelForMaskedLM",
    "falcon-180b-chat": "AutoModelForCausalLM",
    "fuyu-8b": "AutoModelForImageTextToText",
    "gemma-copy": "AutoModelForCausalLM",
    "glm-4-9b-chat-bnb4bit": "AutoModelForSeq2SeqLM",
    "gpt-j-6b": "AutoModelForCausalLM",
    "gpt2": "AutoModelForCausalLM",
    "gpt3-finnish-small-bloom-merged": "AutoModelForCausalLM",
    "granite-3.1-1b-a400m-instruct": "AutoModelForCausalLM",
    "layoutlm-wikipedia-ja": "AutoModelForMaskedLM",
    "llama-2-7b-hf": "AutoModelForCausalLM",
    "llama-3-8b-merged": "AutoModelForCausalLM",
    "mamba-protein-lm-checkpoint": "AutoModelForCausalLM",
    "mbart-large-vietnamese-gec": "AutoModelForSeq2SeqLM",
    "minicpm-llama3-v-2.5-remote": "AutoModelForCausalLM",
    "minicpm-v-2-remote": "AutoModelForCausalLM",
    "minimind2-remote": "AutoModelForCausalLM",
    "mistral-7b-v0.1-finetune": "AutoModelForCausalLM",
    "mpt-7b-instruct-remote": "AutoModelForCausalLM",
    "nllb-200-distilled-600m-finetuned": "AutoModelForSeq2SeqLM",
    "opt-1.3b": "AutoModelForCausalLM",
    "opus-mt-en-hi": "AutoModelForSeq2SeqLM",
    "orpheus-3b-quantized": "AutoModelForCausalLM",
    "qwen1.5-moe-8x0.5b-chat-remote": "AutoModelForCausalLM",
    "qwen2.5-0.5b-instruct": "AutoModelForCausalLM",
    "qwen2.5-0.5b-merged-tv5": "AutoModelForCausalLM",
    "qwen2.5-vl-7b-instruct-copy": "AutoModelForImageTextToText",
    "qwen3-4b-merged-tv5": "AutoModelForCausalLM",
    "rmbg-1.4-remote": "AutoModelForImageSegmentation",
    "roberta-prompt-injection-tv5": "AutoModelForSequenceClassification",
    "sam-vit-huge": "AutoModelForMaskGeneration",
    "sd21-text-encoder": "AutoModel",
    "sdxl-base-text-encoder-2": None,
    "segformer-mit-b0-crop-multiclass": "AutoModelForSemanticSegmentation",
    "siglip-so400m-vision-trimmed": None,
    "t5-small": "AutoModelForSeq2SeqLM",
    "t5-small-summarizer-tv5": "AutoModelForSeq2SeqLM",
    "umt5-xxl-wan-trimmed": None,
    "vibert-punctuation-custom-arch": None,
    "vicuna-7b-v1.3-merged": "AutoModelForCausalLM",
    "virst-video-llm-remote": "AutoModel",
    "vit-base-patch16-224": "AutoModelForImageClassification",
    "vit-chest-xray-pneumonia": "AutoModelForImageClassification",
    "vit-waste-segregation": "AutoModelForImageClassification",
    "wav2vec2-large-robust-emotion-msp-dim": None,
    "wav2vec2-lv60-espeak-ctc-finetuned": "AutoModelForCTC",
    "whisper-large-v3-merged": "AutoModelForSpeechSeq2Seq",
    "whisper-medium-finetuned": "AutoModelForSpeechSeq2Seq",
    "wizard-vicuna-30b-uncensored-gptq": "AutoModelForCausalLM",
    "xlm-roberta-base-claimver-tv5": "AutoModelForSequenceClassification",
    "xlm-roberta-large-regression": "AutoModelForSequenceClassification",
    "xlnet-seqcls-finetuned": "AutoModelForSequenceClassification",
}


@pytest.mark.parametrize("slug", corpus_slugs())
def test_corpus_native_head_is_the_hubs_choice(slug, corpus, index):
    report = heads_for_config(read_config(corpus / slug / "config.json"), index, slug)
    if slug in CORPUS_NATIVE_HEADS:
        assert report.native_head == CORPUS_NATIVE_HEADS[slug]
    architecture = report.architectures[0] if report.architectures else None
    mapping = [h.auto_class for h in report.heads if h.model_class == architecture and not h.remote_code]
    named = [auto for auto in mapping if architecture.endswith(f"For{short_name(auto)}")]
    if named and not any(task_info(auto).rank == GENERATION for auto in mapping):
        # Outside generation, a class named XxxForTask is native to AutoModelForTask whatever else maps it.
        assert report.native_head == named[0], mapping


@pytest.mark.parametrize("slug", ["deberta-v2-large-japanese-char-wwm", "layoutlm-wikipedia-ja"])
def test_masked_lm_checkpoint_mapped_by_pretraining_too_is_native_to_masked_lm(slug, corpus, index):
    report = heads_for_config(read_config(corpus / slug / "config.json"), index, slug)
    mapping = {h.auto_class for h in report.heads if h.model_class == report.architectures[0]}
    assert mapping == {"AutoModelForMaskedLM", "AutoModelForPreTraining"}
    assert report.native_head == "AutoModelForMaskedLM"


@pytest.fixture(scope="module")
def tiny_mpt_remote(tmp_path_factory) -> Path:
    """A tiny MPT saved by transformers, its config.json given the repository's `architectures` and `auto_map`
    as mosaicml/mpt-7b-instruct has them (MPTForCausalLM, not the built-in MptForCausalLM)."""
    import torch
    from transformers import MptConfig, MptForCausalLM

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-mpt-remote")
    config = MptConfig(d_model=32, n_heads=2, n_layers=2, expansion_ratio=2, max_seq_len=64, vocab_size=99)
    MptForCausalLM(config).save_pretrained(path)
    raw = json.loads((path / "config.json").read_text())
    raw["architectures"] = ["MPTForCausalLM"]
    raw["auto_map"] = {"AutoConfig": "configuration_mpt.MPTConfig", "AutoModelForCausalLM": "modeling_mpt.MPTForCausalLM"}
    (path / "config.json").write_text(json.dumps(raw))
    return path


def test_remote_architecture_of_a_known_model_type_predicts_the_built_in_load(tiny_mpt_remote, index, auto_classes):
    """Without trust_remote_code transformers loads the built-in port (MptForCausalLM) and reads the whole checkpoint:
    every built-in head's class and "new weights" must be what a real from_pretrained gives."""
    report = heads_for_config(read_config(tiny_mpt_remote / "config.json"), index, "mpt")
    assert report.native_head == "AutoModelForCausalLM"
    built_in = [head for head in report.heads if not head.remote_code]
    assert {head.auto_class for head in built_in} >= {"AutoModel", "AutoModelForCausalLM",
                                                      "AutoModelForSequenceClassification"}
    for head in built_in:
        model, info = auto_classes[head.auto_class].from_pretrained(tiny_mpt_remote, output_loading_info=True)
        assert type(model).__name__ == head.model_class, head.auto_class
        assert head.new_weights == bool(info["missing_keys"]), (head.auto_class, info["missing_keys"])
    causal_lm = next(head for head in built_in if head.auto_class == "AutoModelForCausalLM")
    assert causal_lm.new_weights is False and "built-in port of the repository's MPTForCausalLM" in causal_lm.note
    (remote,) = [head for head in report.heads if head.remote_code]
    assert remote.native and remote.model_class == "modeling_mpt.MPTForCausalLM"


def test_doctor_and_the_example_agree_with_the_real_load(tiny_mpt_remote):
    doctor = run_amx("doctor", str(tiny_mpt_remote), "--json")
    report = json.loads(doctor.stdout)
    assert doctor.returncode == 0, report["findings"]
    assert report["verdict"] == "ok" and report["model_class"] == "MptForCausalLM"
    assert [finding["code"] for finding in report["findings"]] == ["remote-code-available"]
    example = json.loads(run_amx("heads", str(EXAMPLES / "mpt-7b-instruct-remote"), "--json").stdout)
    by_class = {h["auto_class"]: h["new_weights"] for h in example["heads"] if not h["remote_code"]}
    assert by_class["AutoModelForCausalLM"] is False and by_class["AutoModelForPreTraining"] is False
    assert by_class["AutoModelForSequenceClassification"] is True
