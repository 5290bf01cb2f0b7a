"""`amx source`: Auto class names, the exact source of real transformers classes, the forward contract,
and a repository's own code shown without ever being imported."""

from __future__ import annotations

import functools
import inspect
import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from support import SOURCE_FAMILIES
from support.preloaded import run_amx_preloaded
from typer.testing import CliRunner

from automodel_cli.base.errors import BadInputError, UnsupportedModelError
from automodel_cli.cli import app
from automodel_cli.files.reference import resolve_config
from automodel_cli.knowledge.auto_class_names import (
    auto_class_candidates,
    auto_class_for_model,
)
from automodel_cli.knowledge.head_index import load_index
from automodel_cli.knowledge.heads import heads_for_config
from automodel_cli.render import Output
from automodel_cli.render.source import render_source
from automodel_cli.source.model_source import head_for, source_report

runner = CliRunner()



@pytest.fixture(scope="module")
def index():
    return load_index()


def report_for(model_dir: Path, auto_class: str, index, **options):
    resolved = resolve_config(str(model_dir))
    heads = heads_for_config(resolved.config, index, str(model_dir))
    return source_report(resolved, index, heads, head_for(heads, auto_class), **options)


def human(report, full_contract: bool = False, terminal: bool = False) -> str:
    console = Console(file=io.StringIO(), width=240, force_terminal=terminal, color_system=None)
    Output(stdout=console).emit("source", report, functools.partial(render_source, full_contract=full_contract),
                                soft_wrap=True)
    return console.file.getvalue()


# --- Auto class names -------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("AutoModelForQuestionAnswering", "AutoModelForQuestionAnswering"),
    ("automodelforquestionanswering", "AutoModelForQuestionAnswering"),
    ("QuestionAnswering", "AutoModelForQuestionAnswering"),
    ("question-answering", "AutoModelForQuestionAnswering"),
    ("question_answering", "AutoModelForQuestionAnswering"),
    ("qa", "AutoModelForQuestionAnswering"),
    ("causal-lm", "AutoModelForCausalLM"),
    ("CAUSALLM", "AutoModelForCausalLM"),
    ("text-generation", "AutoModelForCausalLM"),
    ("seq2seq", "AutoModelForSeq2SeqLM"),
    ("ner", "AutoModelForTokenClassification"),
    ("fill-mask", "AutoModelForMaskedLM"),
    ("text-classification", "AutoModelForSequenceClassification"),
    ("feature-extraction", "AutoModel"),
    ("AutoModel", "AutoModel"),
    ("backbone", "AutoBackbone"),
])
def test_names_and_short_forms_resolve(text, expected, index):
    assert auto_class_candidates(text, index.auto_classes) == [expected]


def test_every_auto_class_resolves_to_itself_in_any_case(index):
    for auto_class in index.auto_classes:
        assert auto_class_candidates(auto_class.lower(), index.auto_classes) == [auto_class]


def test_a_pipeline_task_may_name_several_classes(index):
    candidates = auto_class_candidates("automatic-speech-recognition", index.auto_classes)
    assert {"AutoModelForSpeechSeq2Seq", "AutoModelForCTC"} <= set(candidates)


def test_unknown_name_lists_close_matches(index):
    with pytest.raises(BadInputError, match="did you mean: QuestionAnswering") as error:
        auto_class_candidates("QuestionAnswerng", index.auto_classes)
    assert error.value.exit_code == 2
    with pytest.raises(BadInputError, match="unknown Auto class 'xyzzy'$"):
        auto_class_candidates("xyzzy", index.auto_classes)


@pytest.mark.parametrize("slug, expected", [
    ("whisper-medium-finetuned", "AutoModelForSpeechSeq2Seq"),
    ("wav2vec2-lv60-espeak-ctc-finetuned", "AutoModelForCTC"),
])
def test_the_model_decides_between_the_classes_of_a_task(slug, expected, corpus, index):
    heads = heads_for_config(resolve_config(str(corpus / slug)).config, index, slug)
    assert auto_class_for_model("asr", index.auto_classes, heads) == expected


def test_ambiguous_and_unsupported_names(corpus, index):
    heads = heads_for_config(resolve_config(str(corpus / "gpt2")).config, index, "gpt2")
    with pytest.raises(BadInputError, match="ambiguous .*AutoModelForSequenceClassification, AutoModelForTokenClass"):
        auto_class_for_model("classification", index.auto_classes, heads)
    with pytest.raises(UnsupportedModelError, match="supported heads: .*AutoModelForCausalLM") as error:
        auto_class_for_model("segmentation", index.auto_classes, heads)  # several classes, none for gpt2
    assert error.value.exit_code == 1
    # One class the model does not take is returned: each command says "no" in its own way.
    assert auto_class_for_model("image-classification", index.auto_classes, heads) == "AutoModelForImageClassification"


# --- Source of real transformers classes ----------------------------------------------------------------


@pytest.mark.parametrize("slug, auto_class, model_class", SOURCE_FAMILIES)
def test_source_equals_inspect_getsource(slug, auto_class, model_class, corpus, index):
    import transformers

    cls = getattr(transformers, model_class)
    report = report_for(corpus / slug, auto_class, index)
    assert report.model_class == model_class and not report.remote_code
    assert [block.name for block in report.methods] == ["__init__", "forward"]
    for block in report.methods:
        method = getattr(cls, block.name)
        assert block.source == inspect.getsource(method)
        lines, lineno = inspect.getsourcelines(method)
        assert (block.lineno, block.end_lineno) == (lineno, lineno + len(lines) - 1)
        owner = next(c for c in cls.__mro__ if block.name in vars(c))
        assert block.defined_in == owner.__qualname__
        assert block.file == inspect.getsourcefile(owner).split("site-packages/")[1]
        assert block.file.startswith("transformers/")

    whole = report_for(corpus / slug, auto_class, index, whole_class=True).methods
    assert [(b.kind, b.source) for b in whole] == [("class", inspect.getsource(cls))]


def test_inherited_methods_name_their_class_along_the_mro(corpus, index):
    llama_qa = report_for(corpus / "llama-2-7b-hf", "AutoModelForQuestionAnswering", index)
    forward = llama_qa.methods[1]
    assert forward.defined_in == "GenericForQuestionAnswering"
    assert forward.inherited_via == ["LlamaForQuestionAnswering", "GenericForQuestionAnswering"]
    assert forward.file == "transformers/modeling_layers.py"

    generate = report_for(corpus / "gpt2", "AutoModelForCausalLM", index, methods=["generate"]).methods[0]
    assert generate.defined_in == "GenerationMixin" and generate.file == "transformers/generation/utils.py"
    assert generate.inherited_via[0] == "GPT2LMHeadModel" and generate.inherited_via[-1] == "GenerationMixin"
    assert "inherited from GenerationMixin (MRO: GPT2LMHeadModel -> GPT2PreTrainedModel -> " in human(
        report_for(corpus / "gpt2", "AutoModelForCausalLM", index, methods=["generate"]))


def test_a_method_that_borrows_another_functions_name_shows_its_own_code(corpus, index):
    # PreTrainedModel.to is `@wraps(torch.nn.Module.to)`: following __wrapped__ would print torch's code.
    block = report_for(corpus / "gpt2", "AutoModelForCausalLM", index, methods=["to"]).methods[0]
    assert block.defined_in == "PreTrainedModel" and block.file == "transformers/modeling_utils.py"
    assert block.source.lstrip().startswith("@wraps(torch.nn.Module.to)")


def test_unknown_method_is_bad_input_with_suggestions(corpus, index):
    with pytest.raises(BadInputError, match="has no method 'forwad'; did you mean: forward"):
        report_for(corpus / "gpt2", "AutoModelForCausalLM", index, methods=["forwad"])
    with pytest.raises(BadInputError, match="GPT2LMHeadModel._tied_weights_keys is a dict, not a method"):
        report_for(corpus / "gpt2", "AutoModelForCausalLM", index, methods=["_tied_weights_keys"])


# --- Forward contract -------------------------------------------------------------------------------


def contract(corpus, slug, auto_class, index):
    return report_for(corpus / slug, auto_class, index, methods=[]).contract


def shapes(contract_) -> dict[str, tuple[list[str], dict[str, int]]]:
    return {s.field: (s.shape, s.sizes) for s in contract_.main_output}


def test_contract_inputs_follow_the_family(corpus, index):
    def inputs(slug, auto_class):
        return {p.name: p for p in contract(corpus, slug, auto_class, index).inputs}

    bert = inputs("bert-base-uncased-seqcls-tv4.5", "AutoModelForSequenceClassification")
    assert "token_type_ids" in bert and not bert["token_type_ids"].required and bert["token_type_ids"].default == "None"
    assert bert["input_ids"].shape == "(batch_size, sequence_length)"
    assert "token_type_ids" not in inputs("distilbert-base-uncased-distilled-squad", "AutoModelForQuestionAnswering")
    assert "pixel_values" in inputs("vit-base-patch16-224", "AutoModelForImageClassification")
    assert "input_features" in inputs("whisper-medium-finetuned", "AutoModelForSpeechSeq2Seq")
    assert bert["kwargs"].kind == "**kwargs" and not bert["kwargs"].required
    assert bert["kwargs"].annotation == "Unpack[TransformersKwargs]"


@pytest.mark.parametrize("slug, auto_class, output_class, expected", [
    ("distilbert-base-uncased-distilled-squad", "AutoModelForQuestionAnswering", "QuestionAnsweringModelOutput",
     {"start_logits": (["batch", "seq_len"], {}), "end_logits": (["batch", "seq_len"], {})}),
    # GenericForQuestionAnswering declares its return type as a string (`from __future__ import annotations`)
    ("llama-2-7b-hf", "AutoModelForQuestionAnswering", "QuestionAnsweringModelOutput",
     {"start_logits": (["batch", "seq_len"], {}), "end_logits": (["batch", "seq_len"], {})}),
    ("bert-base-uncased-seqcls-tv4.5", "AutoModelForSequenceClassification", "SequenceClassifierOutput",
     {"logits": (["batch", "num_labels"], {"num_labels": 151})}),
    ("bert-ner-finetuned", "AutoModelForTokenClassification", "TokenClassifierOutput",
     {"logits": (["batch", "seq_len", "num_labels"], {"num_labels": 9})}),
    ("gpt2", "AutoModelForCausalLM", "CausalLMOutputWithCrossAttentions",
     {"logits": (["batch", "seq_len", "vocab_size"], {"vocab_size": 50260})}),
    ("gpt2", "AutoModel", "BaseModelOutputWithPastAndCrossAttentions",  # hidden_size is n_embd for gpt2
     {"last_hidden_state": (["batch", "seq_len", "hidden_size"], {"hidden_size": 768})}),
    ("t5-small", "AutoModelForSeq2SeqLM", "Seq2SeqLMOutput",
     {"logits": (["batch", "target_len", "vocab_size"], {"vocab_size": 32128})}),
    ("vit-base-patch16-224", "AutoModelForImageClassification", "ImageClassifierOutput",
     {"logits": (["batch", "num_labels"], {"num_labels": 1000})}),
    ("detr-resnet-50", "AutoModelForObjectDetection", "DetrObjectDetectionOutput",
     {"logits": (["batch", "num_queries", "num_labels+1"], {"num_queries": 100, "num_labels": 91}),
      "pred_boxes": (["batch", "num_queries", "4"], {"num_queries": 100})}),
])
def test_contract_output_class_and_main_shape(slug, auto_class, output_class, expected, corpus, index):
    result = contract(corpus, slug, auto_class, index)
    assert result.output_class == output_class
    assert {"loss"} <= {f.name for f in result.output_fields} or auto_class == "AutoModel"
    assert shapes(result) == expected


def test_num_labels_default_is_noted(corpus, index):
    result = contract(corpus, "gpt2", "AutoModelForSequenceClassification", index)
    assert shapes(result) == {"logits": (["batch", "num_labels"], {"num_labels": 2})}
    assert any("no id2label" in note for note in result.notes)


# --- The command ------------------------------------------------------------------------------------


def test_cli_human_output_is_the_exact_source(corpus):
    import transformers

    result = runner.invoke(app, ["source", "question-answering", str(corpus / "distilbert-base-uncased-distilled-squad")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("# AutoModelForQuestionAnswering -> DistilBertForQuestionAnswering  "
                          "transformers/models/distilbert/modeling_distilbert.py  (transformers 5.")
    forward = transformers.DistilBertForQuestionAnswering.forward
    lines, lineno = inspect.getsourcelines(forward)
    header = (f"# DistilBertForQuestionAnswering.forward  transformers/models/distilbert/modeling_distilbert.py:"
              f"{lineno}-{lineno + len(lines) - 1}\n")
    assert header + inspect.getsource(forward) in out
    assert inspect.getsource(transformers.DistilBertForQuestionAnswering.__init__) in out
    assert "# main output: start_logits (batch, seq_len); end_logits (batch, seq_len)" in out
    assert "# returns: QuestionAnsweringModelOutput(loss, start_logits, end_logits, hidden_states, attentions)" in out
    # every line that is not code is a comment: the output stays valid Python
    compile("".join(line for line in out.splitlines(keepends=True) if line.startswith("#")), "x", "exec")


def test_cli_contract_alone(corpus):
    result = runner.invoke(app, ["source", "text-classification", str(corpus / "bert-base-uncased-seqcls-tv4.5"),
                                 "--contract"])
    assert result.exit_code == 0, result.output
    assert "def forward" not in result.stdout
    assert "#    token_type_ids  " in result.stdout
    assert "# returns: SequenceClassifierOutput (transformers.modeling_outputs)" in result.stdout
    assert "# main output: logits (batch, num_labels=151)" in result.stdout


def test_cli_json(corpus):
    import transformers

    result = runner.invoke(app, ["source", "seq2seq", str(corpus / "t5-small"), "--json", "-m", "forward",
                                 "-m", "generate"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "amx.source/1"
    assert set(data) >= {"auto_class", "model_class", "module", "file", "methods", "contract"}
    assert (data["auto_class"], data["model_class"]) == ("AutoModelForSeq2SeqLM", "T5ForConditionalGeneration")
    assert data["module"] == "transformers.models.t5.modeling_t5"
    assert data["file"] == "transformers/models/t5/modeling_t5.py"
    assert [(m["name"], m["defined_in"]) for m in data["methods"]] == [
        ("forward", "T5ForConditionalGeneration"), ("generate", "GenerationMixin")]
    for block in data["methods"]:
        assert set(block) >= {"name", "defined_in", "lineno", "source"}
        assert block["source"] == inspect.getsource(getattr(transformers.T5ForConditionalGeneration, block["name"]))
    assert data["contract"]["output_class"] == "Seq2SeqLMOutput"
    assert data["contract"]["main_output"] == [
        {"field": "logits", "shape": ["batch", "target_len", "vocab_size"], "sizes": {"vocab_size": 32128}}]


def test_cli_exit_codes(corpus):
    gpt2 = str(corpus / "gpt2")
    unsupported = runner.invoke(app, ["source", "AutoModelForImageClassification", gpt2])
    assert unsupported.exit_code == 1
    assert "AutoModelForImageClassification does not accept" in unsupported.stderr
    assert "supported heads: AutoModel, " in unsupported.stderr and "AutoModelForCausalLM" in unsupported.stderr
    unknown = runner.invoke(app, ["source", "CasualLM", gpt2])
    assert unknown.exit_code == 2 and "did you mean: CausalLM" in unknown.stderr
    ambiguous = runner.invoke(app, ["source", "classification", gpt2])
    assert ambiguous.exit_code == 2 and "ambiguous" in ambiguous.stderr
    method = runner.invoke(app, ["source", "causal-lm", gpt2, "--method", "nope"])
    assert method.exit_code == 2 and "GPT2LMHeadModel has no method 'nope'" in method.stderr
    for result in (unsupported, unknown, ambiguous, method):
        assert result.stdout == "" and "Traceback" not in result.stderr


def test_entry_point_and_help():
    result = run_amx_preloaded("source", "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0
    assert "amx source qa distilbert/distilbert-base-uncased-distilled-squad" in result.stdout
    assert "amx source causal-lm ./examples/gpt2 --method generate" in result.stdout


def test_terminal_output_is_highlighted_with_file_line_numbers(corpus, index):
    report = report_for(corpus / "gpt2", "AutoModelForCausalLM", index)
    out = human(report, terminal=True)
    assert f"{report.methods[1].lineno} " in out and "def forward(" in out
    plain = human(report)
    assert report.methods[1].source in plain and f"{report.methods[1].lineno} " not in plain.split("def forward")[0]


def test_long_output_goes_through_the_pager_on_a_terminal_only(corpus, index, capsys):
    report = report_for(corpus / "gpt2", "AutoModelForCausalLM", index)
    tall = Console(file=io.StringIO(), force_terminal=True, width=120, height=20)
    assert Output(stdout=tall)._taller_than_terminal(list(render_source(report)))
    # Without a tty on stdin, rich's system pager (pydoc) falls back to writing the page to stdout.
    Output(stdout=tall).emit("source", report, render_source, page=True, soft_wrap=True)
    paged = capsys.readouterr().out
    assert "GPT2LMHeadModel.forward" in paged and "\x1b[" in paged  # highlighted, through the pager
    assert tall.file.getvalue() == ""
    roomy = Console(file=io.StringIO(), force_terminal=True, width=120, height=10_000)
    Output(stdout=roomy).emit("source", report, render_source, page=True, soft_wrap=True)
    assert "GPT2LMHeadModel.forward" in roomy.file.getvalue() and capsys.readouterr().out == ""


# --- A repository's own code (auto_map) ----------------------------------------------------------------

REMOTE_MODULE = '''\
import pathlib

pathlib.Path({marker!r}).write_text("imported")

from dataclasses import dataclass

import torch
from transformers import PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from .configuration_tiny import TinyConfig


class TinyPreTrainedModel(PreTrainedModel):
    config_class = TinyConfig

    def helper(self, x):
        return x + 1


@dataclass
class TinyOutput(CausalLMOutputWithPast):
    extra: torch.Tensor | None = None


class TinyForCausalLM(TinyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embed = torch.nn.Embedding(config.vocab_size, config.hidden_size)

    @torch.no_grad()
    def forward(self, input_ids, attention_mask=None, *, labels: torch.Tensor | None = None, **kwargs) -> TinyOutput:
        # a terminal escape in a comment: \x1b[2J
        return TinyOutput(logits=self.embed(input_ids))
    # a trailing comment is not part of the method
'''


REMOTE_CONFIG_MODULE = """\
from transformers import PretrainedConfig


class TinyConfig(PretrainedConfig):
    model_type = "tiny-remote"
"""


def remote_files(marker: Path, code_repo: str = "") -> dict[str, str]:
    """config.json + the repository's code, whose import writes `marker`; `code_repo`: code kept elsewhere."""
    prefix = f"{code_repo}--" if code_repo else ""
    config = {
        "model_type": "tiny-remote", "architectures": ["TinyForCausalLM"], "vocab_size": 99, "hidden_size": 32,
        "auto_map": {"AutoConfig": f"{prefix}configuration_tiny.TinyConfig",
                     "AutoModelForCausalLM": f"{prefix}modeling_tiny.TinyForCausalLM"},
    }
    return {"config.json": json.dumps(config), "modeling_tiny.py": REMOTE_MODULE.format(marker=str(marker)),
            "configuration_tiny.py": REMOTE_CONFIG_MODULE}


@pytest.fixture
def remote_model(tmp_path) -> tuple[Path, Path]:
    """A model directory whose modeling file writes a marker file when (and only when) it is imported."""
    model, marker = tmp_path / "tiny-remote", tmp_path / "MARKER"
    model.mkdir()
    for name, text in remote_files(marker).items():
        (model / name).write_text(text)
    return model, marker


def amx_json(*args: str) -> dict:
    result = run_amx_preloaded("source", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_remote_code_is_parsed_not_imported(remote_model):
    model, marker = remote_model
    result = run_amx_preloaded("source", "causal-lm", str(model), "--method", "forward", "--method", "helper",
                     "--method", "save_pretrained")
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    out = result.stdout
    assert "# AutoModelForCausalLM -> TinyForCausalLM" in out and "(repository code)" in out
    assert "parsed from" in out and "not run; --trust-remote-code imports it" in out
    assert "# TinyForCausalLM.helper  inherited from TinyPreTrainedModel" in out
    assert "TinyForCausalLM.save_pretrained is not defined in" in out
    assert "\\x1b[2J" in out and "\x1b" not in out  # an escape in the file is shown, never sent
    assert "trailing comment" not in out
    assert "# inputs: input_ids, attention_mask, labels, **kwargs  (required: input_ids)" in out
    # TinyOutput's fields include those it inherits from transformers' CausalLMOutputWithPast
    assert "# main output: logits (batch, seq_len, vocab_size=99)" in out
    assert not marker.exists()


def test_trusted_import_gives_the_same_blocks_as_parsing(remote_model):
    model, marker = remote_model
    for options in (["-m", "__init__", "-m", "forward", "-m", "helper"], ["--class"]):
        parsed = amx_json("causal-lm", str(model), *options)
        assert not marker.exists()
        assert parsed["remote_code"] is True and parsed["imported"] is False
        imported = amx_json("causal-lm", str(model), *options, "--trust-remote-code")
        assert marker.read_text() == "imported"
        marker.unlink()
        assert imported["imported"] is True and imported["file"].startswith("transformers_modules/")
        keys = ("name", "kind", "defined_in", "lineno", "end_lineno", "source", "inherited_via")
        assert [{k: b[k] for k in keys} for b in parsed["methods"]] == [
            {k: b[k] for k in keys} for b in imported["methods"]]
        for part in ("output_class", "main_output"):
            assert parsed["contract"][part] == imported["contract"][part]


def test_remote_code_in_another_repository_is_fetched_not_guessed(corpus):
    # mpt-7b-instruct's auto_map points at "mosaicml/mpt-7b-instruct--modeling_mpt.MPTForCausalLM";
    # tests run offline with an empty cache, so the file cannot be had.
    result = run_amx_preloaded("source", "causal-lm", str(corpus / "mpt-7b-instruct-remote"))
    assert result.returncode == 1
    assert "mosaicml/mpt-7b-instruct/modeling_mpt.py is not in the Hugging Face cache" in result.stderr


def test_remote_code_on_the_hub(local_hub, tmp_path):
    """Static reading and trusted import of a Hub repository's code, the files fetched through hub.py."""
    marker = tmp_path / "MARKER"
    files = remote_files(marker)
    local_hub.add_repo("amx-test/tiny-remote", files)
    # the weights' repository points at code kept in another repository, as mosaicml/mpt-7b-instruct does
    local_hub.add_repo("amx-test/tiny-remote-weights", {"config.json": remote_files(marker, "amx-test/tiny-remote")[
        "config.json"]})
    env = local_hub.env()

    parsed = run_amx_preloaded("source", "causal-lm", "amx-test/tiny-remote-weights", "--json", env=env)
    assert parsed.returncode == 0, parsed.stderr
    data = json.loads(parsed.stdout)
    assert data["file"] == "amx-test/tiny-remote/modeling_tiny.py" and data["imported"] is False
    assert [m["name"] for m in data["methods"]] == ["__init__", "forward"]
    assert not marker.exists()

    trusted = run_amx_preloaded("source", "causal-lm", "amx-test/tiny-remote", "--json", "--trust-remote-code", env=env)
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads(trusted.stdout)["imported"] is True
    assert marker.read_text() == "imported"  # configuration_tiny.py, imported relatively, was fetched too
