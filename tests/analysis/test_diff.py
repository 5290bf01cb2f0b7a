"""`amx diff` as data: config fields, heads, tensors, totals and the structure digest of two real checkpoints.

The checkpoints are saved by transformers and peft at test time; what they hold is read back with the
safetensors library, and what a cross load does is what `from_pretrained` really reports.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import EXAMPLES
from support.tiny_models import llama_variants, save_tiny, tiny_config

from automodel_cli.analysis.diff import config_changes, diff_repositories
from automodel_cli.analysis.structure import same_value
from automodel_cli.knowledge.head_index import load_index
from automodel_cli.repository.dispatch import resolve_repository


def _retrained(source: Path, directory: Path) -> Path:
    """The same model with other weight values, as a fine-tune that kept the architecture leaves it."""
    import torch
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM.from_pretrained(source)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(1.0)
    model.save_pretrained(directory)
    return directory


def _lora(base: Path, directory: Path) -> Path:
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM

    model = get_peft_model(LlamaForCausalLM.from_pretrained(base),
                           LoraConfig(task_type="CAUSAL_LM", r=4, target_modules=["q_proj", "v_proj"]))
    model.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("diff")
    variants = llama_variants(root)
    return {**variants, "retrained": _retrained(variants["llama"], root / "retrained"),
            "adapter": _lora(variants["llama"], root / "adapter")}


def diff(a: Path | str, b: Path | str, **options):
    return diff_repositories(resolve_repository(str(a)), resolve_repository(str(b)), load_index(), **options)


def _header(directory: Path) -> dict[str, tuple[list[int], str]]:
    """Every tensor's shape and dtype, as the safetensors library reads the file."""
    from safetensors import safe_open

    with safe_open(directory / "model.safetensors", "pt") as checkpoint:
        return {name: (list(checkpoint.get_slice(name).get_shape()), checkpoint.get_slice(name).get_dtype())
                for name in checkpoint.keys()}


def test_a_model_and_its_copy_are_the_same(models):
    report = diff(models["llama"], models["copy"])
    assert report.same
    assert report.config == [] and report.tensors.empty
    assert report.structure_digest.a == report.structure_digest.b
    assert report.parameters.a == report.parameters.b == sum(
        _numel(shape) for shape, _ in _header(models["llama"]).values())


def _numel(shape: list[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def test_other_weight_values_are_the_same_structure(models):
    from safetensors.torch import load_file

    assert not load_file(models["llama"] / "model.safetensors")["lm_head.weight"].equal(
        load_file(models["retrained"] / "model.safetensors")["lm_head.weight"])
    report = diff(models["llama"], models["retrained"])
    assert report.same and report.tensors.empty
    assert report.structure_digest.a == report.structure_digest.b


def test_resized_vocabulary_in_another_dtype(models):
    report = diff(models["llama"], models["resized"])
    assert not report.same
    fields = {c.field: (c.a, c.b) for c in report.config}
    assert fields["vocab_size"] == (99, 120)
    header_a, header_b = _header(models["llama"]), _header(models["resized"])
    short = {"F32": "F32", "BF16": "BF16"}
    expected = {name: ((header_a[name][0], header_a[name][1]), (header_b[name][0], header_b[name][1]))
                for name in header_a if header_a[name] != header_b[name]}
    changed = {c.name: ((list(c.a.shape), short[c.a.dtype]), (list(c.b.shape), short[c.b.dtype]))
               for c in report.tensors.changed}
    assert changed == expected
    assert changed["model.embed_tokens.weight"] == (([99, 32], "F32"), ([120, 32], "BF16"))
    assert report.dtypes.a.keys() == {"F32"} and report.dtypes.b.keys() == {"BF16"}
    assert report.structure_digest.a != report.structure_digest.b


def test_a_classification_head_on_the_same_backbone(models):
    report = diff(models["llama"], models["classifier"])
    assert not report.same
    assert [t.name for t in report.tensors.removed] == ["lm_head.weight"]
    assert [t.name for t in report.tensors.added] == ["score.weight"]
    assert report.heads.native.a == "AutoModelForCausalLM"
    assert report.heads.native.b == "AutoModelForSequenceClassification"
    assert {c.field for c in report.config} >= {"architectures"}


def test_load_into_a_is_what_from_pretrained_reports(models):
    from transformers import LlamaForCausalLM

    _, info = LlamaForCausalLM.from_pretrained(models["classifier"], output_loading_info=True)
    head = diff(models["llama"], models["classifier"], load_into="a").load_into
    assert head.auto_class == "AutoModelForCausalLM"
    assert sorted(head.missing_keys) == sorted(info["missing_keys"]) == ["lm_head.weight"]
    assert sorted(head.unexpected_keys) == sorted(info["unexpected_keys"])
    assert head.mismatched_keys == []


def test_an_adapter_adds_its_own_tensors_to_its_base(models):
    from safetensors import safe_open

    report = diff(models["llama"], models["adapter"])
    assert not report.same
    assert (report.kind.a, report.kind.b) == ("transformers", "adapter")
    with safe_open(models["adapter"] / "adapter_model.safetensors", "pt") as checkpoint:
        saved = {"adapter:" + name for name in checkpoint.keys()}
    assert {t.name for t in report.tensors.added} == saved
    assert report.tensors.removed == [] and report.tensors.changed == []
    assert report.config == []


def test_a_different_model_type_is_an_answer(models):
    bert = save_tiny("BertModel", tiny_config("bert"), models["llama"].parent / "bert")
    report = diff(models["llama"], bert)
    assert not report.same
    assert next(c for c in report.config if c.field == "model_type").b == "bert"
    assert report.heads.native.b == "AutoModel"
    assert "AutoModelForMaskedLM" in report.heads.added  # BERT has a masked-LM head, Llama none
    assert "AutoModelForCausalLM" not in report.heads.removed  # BertLMHeadModel: both load as causal LMs


def test_pipelines_compare_their_components(tmp_path):
    sdxl = EXAMPLES / "stable-diffusion-xl-base-1.0"
    other = Path(shutil.copytree(sdxl, tmp_path / "sdxl-ddim"))
    index = json.loads((other / "model_index.json").read_text())
    index["scheduler"] = ["diffusers", "DDIMScheduler"]
    (other / "model_index.json").write_text(json.dumps(index))
    report = diff(sdxl, other)
    assert not report.same and report.tensors.empty
    assert [(c.field, c.a, c.b) for c in report.config] == [
        ("scheduler", ["diffusers", "EulerDiscreteScheduler"], ["diffusers", "DDIMScheduler"])]
    assert diff(sdxl, sdxl).same


# --- config fields ---------------------------------------------------------------------------------


def test_nested_fields_have_dotted_paths():
    a = {"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 2.0}}
    b = {"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 4.0, "low_freq_factor": 1}}
    changes = [(c.field, c.a, c.b, c.kind) for c in config_changes(a, b)]
    assert changes == [("rope_scaling.factor", 2.0, 4.0, "changed"),
                       ("rope_scaling.low_freq_factor", None, 1, "only_b")]


def test_an_absent_field_at_its_class_default_is_not_a_difference():
    from transformers import LlamaConfig

    default = LlamaConfig().hidden_act
    a, b = {"model_type": "llama", "hidden_act": default}, {"model_type": "llama"}
    assert config_changes(a, b) == []
    shown = config_changes(a, b, all_fields=True)
    assert [(c.field, c.kind, c.absent) for c in shown] == [("hidden_act", "default", "b")]
    assert [c.kind for c in config_changes({"model_type": "llama", "hidden_act": "gelu"}, b)] == ["only_a"]


def test_bookkeeping_fields_are_only_shown_on_request():
    a = {"model_type": "llama", "transformers_version": "4.40.0", "_name_or_path": "x"}
    b = {"model_type": "llama", "transformers_version": "5.0.0"}
    assert config_changes(a, b) == []
    assert {c.field for c in config_changes(a, b, all_fields=True)} == {"transformers_version", "_name_or_path"}


def test_values_compare_as_transformers_reads_them():
    assert same_value(1.0, 1) and not same_value(True, 1) and same_value({"x": [1, 2.0]}, {"x": [1.0, 2]})
    assert [(c.field, c.kind) for c in config_changes({"a": 1.0, "b": True}, {"a": 1, "b": 1})] == [("b", "changed")]


def test_digest_is_stable_and_ignores_bookkeeping(models, tmp_path):
    copy = Path(shutil.copytree(models["llama"], tmp_path / "copy"))
    config = json.loads((copy / "config.json").read_text())
    config["transformers_version"] = "4.0.0"
    (copy / "config.json").write_text(json.dumps(config, indent=7))
    report = diff(models["llama"], copy)
    assert report.same and report.structure_digest.a == report.structure_digest.b
    assert report.structure_digest.a.startswith("sha256:") and len(report.structure_digest.a) == 71
