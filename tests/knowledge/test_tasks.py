"""`amx tasks`: the catalogue must be the installed transformers' own, the matcher forgiving, the code runnable."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import subprocess
import sys

import pytest
from support import PROJECT_ROOT, run_amx
from typer.testing import CliRunner

from automodel_cli.cli import app
from automodel_cli.knowledge.head_index import load_index
from automodel_cli.knowledge.task_examples import PLACEHOLDER
from automodel_cli.knowledge.task_search import find_tasks, list_tasks, model_types_for

runner = CliRunner()


@pytest.fixture(scope="module")
def index():
    return load_index()


def matched(query: str, index) -> list[str]:
    return [entry.auto_class for entry in find_tasks(query, index).tasks]


def test_catalogue_lists_every_auto_class_grouped_by_modality(index):
    report = list_tasks(index)
    assert sorted(e.auto_class for e in report.tasks) == sorted(index.auto_classes)
    modalities = [e.modality for e in report.tasks]
    assert modalities[0] == "text"
    # grouped: each modality forms one run
    runs = [m for i, m in enumerate(modalities) if i == 0 or modalities[i - 1] != m]
    assert len(runs) == len(set(runs))
    assert runs[:4] == ["text", "vision", "audio", "multimodal"]
    by_class = {e.auto_class: e for e in report.tasks}
    assert by_class["AutoModelForTokenClassification"].pipelines == ["token-classification"]
    assert by_class["AutoModelForTokenClassification"].inputs and by_class["AutoModelForTokenClassification"].output
    assert by_class["AutoModelForSeq2SeqLM"].pipelines == []  # transformers 5 removed text2text/summarization


def test_pipelines_are_the_installed_transformers_own(index):
    from transformers.pipelines import SUPPORTED_TASKS

    assert index.pipelines == {task: [c.__name__ for c in spec["pt"]] for task, spec in SUPPORTED_TASKS.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ner", ["AutoModelForTokenClassification"]),
        ("NER", ["AutoModelForTokenClassification"]),
        ("named entity recognition", ["AutoModelForTokenClassification"]),
        ("question answering", ["AutoModelForQuestionAnswering"]),
        ("qa", ["AutoModelForQuestionAnswering"]),
        ("translation", ["AutoModelForSeq2SeqLM"]),
        ("summarization", ["AutoModelForSeq2SeqLM"]),
        ("image-classification", ["AutoModelForImageClassification"]),
        ("sentiment-analysis", ["AutoModelForSequenceClassification"]),
        ("causal-lm", ["AutoModelForCausalLM"]),
        ("AutoModelForCausalLM", ["AutoModelForCausalLM"]),
        ("automodelforcausallm", ["AutoModelForCausalLM"]),
        ("text-generation", ["AutoModelForCausalLM"]),
        ("fill-mask", ["AutoModelForMaskedLM"]),
        ("image captioning", ["AutoModelForImageTextToText"]),
        ("objet detection", ["AutoModelForObjectDetection"]),  # typo
        ("tokn clasification", ["AutoModelForTokenClassification"]),  # typos
    ],
)
def test_queries_find_the_right_auto_class(query, expected, index):
    assert matched(query, index) == expected


def test_broad_queries_give_every_fitting_head(index):
    speech_recognition = {"AutoModelForSpeechSeq2Seq", "AutoModelForCTC", "AutoModelForRNNT", "AutoModelForTDT"}
    assert set(matched("asr", index)) == speech_recognition & set(index.auto_classes)  # no transducers in 5.0
    segmentation = set(matched("segmentation", index))
    assert {"AutoModelForSemanticSegmentation", "AutoModelForInstanceSegmentation"} <= segmentation
    classification = matched("classification", index)
    assert classification[0] == "AutoModelForSequenceClassification"
    assert {"AutoModelForImageClassification", "AutoModelForAudioClassification"} <= set(classification)


def test_every_pipeline_task_and_alias_finds_its_auto_classes(index):
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    for task, spec in SUPPORTED_TASKS.items():
        assert {c.__name__ for c in spec["pt"]} <= set(matched(task, index)), task
    for alias, task in TASK_ALIASES.items():
        assert {c.__name__ for c in SUPPORTED_TASKS[task]["pt"]} <= set(matched(alias, index)), alias


def test_model_types_are_exactly_those_transformers_accepts(index):
    from transformers import CONFIG_MAPPING
    from transformers.models.auto import modeling_auto

    for auto_name in ("AutoModelForTokenClassification", "AutoModelForSpeechSeq2Seq", "AutoModelForDepthEstimation"):
        mapping = getattr(modeling_auto, auto_name)._model_mapping
        expected = {mt for mt in CONFIG_MAPPING.keys() if CONFIG_MAPPING[mt] in mapping}
        assert set(model_types_for(auto_name, index)) == expected, auto_name


def test_every_code_example_compiles(index):
    for auto_class in index.auto_classes:
        entry = find_tasks(auto_class, index).tasks[0]
        assert entry.auto_class == auto_class
        compile(entry.example, f"<example {auto_class}>", "exec")
        assert f"{auto_class}.from_pretrained(checkpoint)" in entry.example


WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hugging", "face", "is", "based", "in", "new", "york",
         "city", ".", "where", "?", "i", "loved", "this", "film", "the", "capital", "of", "france", "paris"]
# A vocabulary the size of the tokenizer's, so that every predicted token decodes to a word.
BERT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37, vocab_size=len(WORDS))


QUESTION_AND_CONTEXT = {"[CLS]", "[SEP]", "where", "is", "hugging", "face", "based", "?", "in", "new", "york", "city", "."}
# What each example prints, with random weights: the main output of the head, of the right kind.
PRINTS = {
    "AutoModel": lambda out, config: out == f"torch.Size([1, 11, {config.hidden_size}])",  # [CLS] 9 words [SEP]
    "AutoModelForMaskedLM": lambda out, config: out in WORDS,
    "AutoModelForCausalLM": lambda out, config: out.startswith("the capital of france is"),
    "AutoModelForSequenceClassification": lambda out, config: out in config.id2label.values(),
    "AutoModelForTokenClassification": lambda out, config: [label for _, label in ast.literal_eval(out)] and all(
        label in config.id2label.values() for _, label in ast.literal_eval(out)),
    "AutoModelForQuestionAnswering": lambda out, config: set(out.split()) <= QUESTION_AND_CONTEXT,
}


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    from transformers import BertTokenizer

    directory = tmp_path_factory.mktemp("bert-tokenizer")
    (directory / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    BertTokenizer(str(directory / "vocab.txt")).save_pretrained(directory)
    return directory


@pytest.mark.parametrize(
    "auto_class",
    ["AutoModel", "AutoModelForMaskedLM", "AutoModelForCausalLM", "AutoModelForSequenceClassification",
     "AutoModelForTokenClassification", "AutoModelForQuestionAnswering"],
)
def test_code_example_runs_on_a_tiny_model(auto_class, index, tokenizer_dir, tmp_path):
    """The printed example, with only the checkpoint swapped for a tiny local model, runs as is."""
    import shutil

    import transformers
    from transformers import BertConfig

    config = BertConfig(**BERT, is_decoder=auto_class == "AutoModelForCausalLM",
                        num_labels=2 if auto_class == "AutoModelForQuestionAnswering" else 3)
    getattr(transformers, auto_class).from_config(config).save_pretrained(tmp_path)
    for file in tokenizer_dir.iterdir():
        shutil.copy(file, tmp_path)
    example = find_tasks(auto_class, index).tasks[0].example
    checkpoint = next(line for line in example.splitlines() if line.startswith("checkpoint = "))
    code = example.replace(checkpoint, f"checkpoint = {str(tmp_path)!r}")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "<example>", "exec"), {})
    assert PRINTS[auto_class](printed.getvalue().strip(), config), printed.getvalue()


def test_cli_single_match_shows_class_example_and_count():
    result = runner.invoke(app, ["tasks", "ner"])
    assert result.exit_code == 0, result.output
    assert "AutoModelForTokenClassification" in result.output
    assert "AutoTokenizer.from_pretrained(checkpoint)" in result.output
    assert 'pipeline("token-classification", model=checkpoint)' in result.output
    assert "--model-types lists them" in result.output


def test_cli_model_types_lists_model_classes():
    result = runner.invoke(app, ["tasks", "token classification", "--model-types"])
    assert result.exit_code == 0, result.output
    assert "BertForTokenClassification" in result.output


def test_cli_catalogue_and_json():
    human = runner.invoke(app, ["tasks"])
    assert human.exit_code == 0
    assert "vision" in human.output and "AutoModelForObjectDetection" in human.output
    data = json.loads(runner.invoke(app, ["tasks", "--json"]).stdout)
    assert data["schema"] == "amx.tasks/1" and data["query"] is None
    entry = next(t for t in data["tasks"] if t["auto_class"] == "AutoModelForCausalLM")
    assert entry["pipelines"][0] == "text-generation" and entry["example"] is None
    assert set(entry) >= {"auto_class", "task", "modality", "pipelines", "inputs", "output", "model_type_count"}


def test_cli_query_json_has_example_and_model_types():
    data = json.loads(runner.invoke(app, ["tasks", "translation", "--model-types", "--json"]).stdout)
    (entry,) = data["tasks"]
    assert entry["auto_class"] == "AutoModelForSeq2SeqLM" and entry["matched"] == "translation"
    assert entry["model_types"]["t5"] == "T5ForConditionalGeneration"
    assert entry["model_type_count"] == len(entry["model_types"])
    assert PLACEHOLDER not in entry["example"]


def test_no_match_is_one_error_line_with_exit_1():
    result = run_amx("tasks", "qqqqzzzz")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: no task of transformers") and "Traceback" not in result.stderr


def test_help_has_examples():
    result = runner.invoke(app, ["tasks", "--help"])
    assert result.exit_code == 0
    assert "amx tasks ner" in result.output and "--model-types" in result.output


def test_tasks_does_not_import_torch_or_transformers():
    run_amx("tasks")  # make sure the index is cached
    code = (
        "import sys; from typer.testing import CliRunner; from automodel_cli.cli import app;"
        "r = CliRunner().invoke(app, ['tasks', 'ner']); assert r.exit_code == 0, r.output;"
        "r = CliRunner().invoke(app, ['tasks']); assert r.exit_code == 0, r.output;"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("query", ["text-to-image", "image generation", "Text to Video", "txt2img"])
def test_a_task_transformers_does_not_do_says_so_and_names_diffusers(query, index):
    """No transformers pipeline or Auto class generates images or video; diffusers' classes do."""
    import diffusers
    from transformers.pipelines import SUPPORTED_TASKS

    assert not {"text-to-image", "text-to-video", "image-generation"} & set(SUPPORTED_TASKS)
    report = find_tasks(query, index)
    assert report.tasks == [] and report.other_library.library == "diffusers"
    assert hasattr(diffusers, report.other_library.loader.partition(".")[0])
    human = run_amx("tasks", query)
    assert human.returncode == 1 and "ImageTextToText" not in human.stdout
    assert human.stdout.startswith(f"no Auto class of transformers {index.transformers_version} does ")
    assert "it is a task for diffusers" in human.stdout
    result = run_amx("tasks", query, "--json")
    data = json.loads(result.stdout)
    assert (result.returncode, data["tasks"], data["other_library"]["library"]) == (1, [], "diffusers")


@pytest.mark.parametrize("query", ["reranking", "rerank", "re-ranking", "reranker"])
def test_rerankers_are_sequence_classification_as_sentence_transformers_loads_them(query, index):
    from sentence_transformers.base.modules.transformer import TRANSFORMER_TASK_TO_AUTO_MODEL

    expected = TRANSFORMER_TASK_TO_AUTO_MODEL["sequence-classification"].__name__  # what CrossEncoder loads
    assert [entry.auto_class for entry in find_tasks(query, index).tasks] == [expected]
    data = json.loads(run_amx("tasks", query, "--json").stdout)
    assert [task["auto_class"] for task in data["tasks"]] == [expected] and data["other_library"] is None
    assert run_amx("tasks", query).stdout.startswith(expected)
