"""`amx inspect`: summary, counts, memory, grouped parameters and the head check, from headers or a meta build."""

from __future__ import annotations

import json
import pickle

import pytest
from support import EXAMPLES
from support.preloaded import run_amx_preloaded
from support.tiny_models import save_tiny, tiny_config
from typer.testing import CliRunner

from automodel_cli.analysis.inspection import inspect_model
from automodel_cli.base.errors import BadInputError
from automodel_cli.cli import app
from automodel_cli.files.config_reader import read_config
from automodel_cli.files.reference import resolve_config
from automodel_cli.formats.param_groups import (
    compact_range,
    filter_tensors,
    group_tensors,
    module_tree,
)
from automodel_cli.formats.tensors import TensorSpec
from automodel_cli.knowledge.config_summary import summarize_config

runner = CliRunner()


def amx(*args: str):
    result = runner.invoke(app, list(args))
    return result


def amx_json(*args: str) -> dict:
    result = amx(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- config summary ------------------------------------------------------------------------------


@pytest.mark.parametrize(("example", "expected"), [
    ("gpt2", dict(layers=12, hidden_size=768, attention_heads=12, key_value_heads=12, context_length=1024)),
    ("t5-small", dict(layers=6, hidden_size=512, attention_heads=8, head_dim=64, intermediate_size=2048)),
    ("llama-3-8b", dict(layers=32, hidden_size=4096, attention_heads=32, key_value_heads=8, head_dim=128,
                        vocab_size=128256, context_length=8192, intermediate_size=14336, dtype="F16")),
    ("qwen2.5-vl-7b-instruct", dict(layers=28, hidden_size=3584, attention_heads=28, key_value_heads=4)),
    ("distilbert-sst2", dict(layers=6, hidden_size=768, attention_heads=12, intermediate_size=3072)),
])
def test_summary_reads_each_family_through_its_attribute_map(example, expected):
    summary = summarize_config(read_config(EXAMPLES / example / "config.json"))
    assert {key: getattr(summary, key) for key in expected} == expected


def test_summary_takes_absent_fields_from_the_config_class_defaults(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "num_attention_heads": 16}))
    summary = summarize_config(read_config(tmp_path / "config.json"))
    assert (summary.hidden_size, summary.attention_heads, summary.key_value_heads) == (4096, 16, 16)


# --- grouping, filter, tree -----------------------------------------------------------------------


def spec(name, shape=(4, 4), dtype="BF16", buffer=False):
    return TensorSpec(name, shape, dtype, buffer)


def test_repeated_layers_collapse_and_odd_ones_stay_apart():
    tensors = [spec(f"model.layers.{i}.mlp.experts.{e}.w1.weight") for i in range(3) for e in range(8)]
    tensors += [spec(f"model.layers.{i}.norm.weight", (4,)) for i in range(4)]
    tensors += [spec("model.layers.3.mlp.w1.weight", (4, 8))]
    groups = {g.name: (g.count, g.numel) for g in group_tensors(tensors)}
    assert groups == {
        "model.layers.{0..2}.mlp.experts.{0..7}.w1.weight": (24, 24 * 16),
        "model.layers.{0..3}.norm.weight": (4, 16),
        "model.layers.3.mlp.w1.weight": (1, 32),
    }
    assert compact_range([5, 0, 1, 2, 3, 7, 8]) == "0..3,5,7,8"


def test_filter_rejects_a_malformed_regex():
    assert [t.name for t in filter_tensors([spec("a.weight"), spec("b.bias")], r"\.bias$")] == ["b.bias"]
    with pytest.raises(BadInputError, match="not a valid regular expression"):
        filter_tensors([], "(")


def test_module_tree_merges_identical_layers_and_stops_at_depth():
    tensors = [spec(f"model.layers.{i}.attn.weight") for i in range(4)] + [spec("model.embed.weight", (10, 4))]
    tensors.append(spec("model.pos_ids", (10,), "I64", buffer=True))
    root = module_tree(tensors, depth=2)
    assert root.parameters == 4 * 16 + 40
    model = root.children[0]
    assert [(c.name, c.parameters) for c in model.children] == [("layers", 64), ("embed", 40)]
    assert model.children[0].children == []  # depth 2 stops above the layers
    layers = module_tree(tensors, depth=3).children[0].children[0]
    assert [(c.name, c.count, c.parameters) for c in layers.children] == [("{0..3}", 4, 64)]


# --- a real checkpoint: all-MiniLM-L6-v2 -----------------------------------------------------------


def real_loading_info(auto_class: str, path) -> dict[str, list]:
    """The key sets of a real `from_pretrained(..., output_loading_info=True)` with the installed transformers."""
    import transformers

    from automodel_cli.meta.meta_build import quiet_transformers

    with quiet_transformers():
        _, info = getattr(transformers, auto_class).from_pretrained(path, output_loading_info=True)
    return {key: sorted(info[key]) for key in ("missing_keys", "unexpected_keys", "mismatched_keys")}


def test_real_checkpoint_human_output(minilm):
    result = amx("inspect", str(minilm))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "22,713,216" in out and "BertModel" in out
    assert "encoder.layer.{0..5}.attention.self.query.weight" in out and "×6" in out
    assert "embeddings.position_ids" in out and "buffer" in out
    # transformers 5.0 reports the saved position_ids buffer as unexpected; later releases drop it silently.
    real = real_loading_info("AutoModel", minilm)
    if real["unexpected_keys"]:
        assert f"unused (1): {real['unexpected_keys'][0]}" in out
    else:
        assert "every weight of this head is in the checkpoint" in out
    assert "float32" in out and "int4" in out


def test_real_checkpoint_json_counts_what_num_parameters_counts(minilm):
    import transformers

    from automodel_cli.meta.meta_build import quiet_transformers

    data = amx_json("inspect", str(minilm))
    with quiet_transformers():
        real, info = transformers.AutoModel.from_pretrained(minilm, output_loading_info=True)
    assert data["schema"] == "amx.inspect/1"
    assert data["source"] == "safetensors" and data["checkpoint_files"] == ["model.safetensors"]
    assert data["total_parameters"] == real.num_parameters() == 22_713_216
    assert data["embedding_parameters"] == (30522 + 512 + 2) * 384
    assert data["memory_bytes"]["float32"] == 4 * data["total_parameters"]
    assert data["memory_bytes"]["int4"] == data["total_parameters"] // 2
    assert data["dtypes"] == {"I64": 512, "F32": 22_713_216}
    position_ids = next(p for p in data["parameters"] if p["name"] == "embeddings.position_ids")
    assert position_ids == {"name": "embeddings.position_ids", "shape": [1, 512], "dtype": "I64", "buffer": True}
    assert data["head"]["model_class"] == "BertModel" and data["head"]["num_parameters"] == real.num_parameters()
    assert (data["head"]["missing_keys"], data["head"]["mismatched_keys"]) == ([], [])
    assert data["head"]["unexpected_keys"] == sorted(info["unexpected_keys"])  # 5.0: the position_ids buffer
    assert data["kv_cache"] is None  # an encoder


def test_other_head_reports_the_new_classifier(minilm):
    head = amx_json("inspect", str(minilm), "--head", "AutoModelForSequenceClassification")["head"]
    assert head["auto_class"] == "AutoModelForSequenceClassification"
    assert head["model_class"] == "BertForSequenceClassification"
    assert head["missing_keys"] == ["classifier.bias", "classifier.weight"]
    real = real_loading_info("AutoModelForSequenceClassification", minilm)
    assert head["unexpected_keys"] == real["unexpected_keys"] and head["mismatched_keys"] == []


def test_filter_all_and_tree(minilm):
    result = amx("inspect", str(minilm), "--filter", r"layer\.1\.output", "--all")
    assert result.exit_code == 0, result.output
    assert "encoder.layer.1.output.dense.weight" in result.stdout and "layer.0" not in result.stdout
    tree = amx_json("inspect", str(minilm), "--tree", "--depth", "3")["tree"]
    encoder = next(c for c in tree["children"] if c["name"] == "encoder")
    assert encoder["children"][0]["children"][0]["name"] == "{0..5}"
    assert encoder["children"][0]["children"][0]["count"] == 6
    assert tree["parameters"] == 22_713_216


def test_bad_input_exit_codes(minilm):
    bad_regex = amx("inspect", str(minilm), "--filter", "[")
    assert bad_regex.exit_code == 2 and "not a valid regular expression" in bad_regex.stderr
    assert "hint: --filter takes a Python regular expression" in bad_regex.stderr and "'\\[' matches" in bad_regex.stderr
    not_auto = amx("inspect", str(minilm), "--head", "BertForMaskedLM")
    assert not_auto.exit_code == 2 and "unknown Auto class 'BertForMaskedLM'" in not_auto.stderr
    wrong = amx("inspect", str(minilm), "--head", "AutoModelForImageClassification")
    assert wrong.exit_code == 1 and "does not fit 'bert'" in wrong.stderr
    assert "AutoModelForSequenceClassification" in wrong.stderr


# --- tiny checkpoints ------------------------------------------------------------------------------


def test_sharded_checkpoint_with_progress(tmp_path):
    import transformers

    config = tiny_config("llama")
    directory = save_tiny("LlamaForCausalLM", config, tmp_path / "sharded", max_shard_size="8KB")
    calls = []
    report = inspect_model(resolve_config(str(directory)), progress=lambda done, total: calls.append((done, total)))
    assert len(report.checkpoint_files) > 1 and calls[-1] == (len(report.checkpoint_files),) * 2
    assert report.total_parameters == transformers.LlamaForCausalLM(config).num_parameters()
    assert report.kv_cache.bytes_per_token == 2 * 2 * 2 * 8 * 4  # K and V, 2 layers, 2 kv heads, head_dim 8, F32
    assert report.kv_cache.bytes_at_context == report.kv_cache.bytes_per_token * 64


def test_mismatched_head_says_transformers_refuses(tmp_path):
    directory = save_tiny("BertForSequenceClassification", tiny_config("bert"), tmp_path / "three-labels")
    result = amx("inspect", str(directory), "--head", "AutoModelForMultipleChoice")
    assert result.exit_code == 0, result.output
    assert "shape mismatch: classifier.weight checkpoint [3, 32] vs model [1, 32]" in result.stdout
    assert "ignore_mismatched_sizes=True" in result.stdout
    head = amx_json("inspect", str(directory), "--head", "AutoModelForMultipleChoice")["head"]
    assert head["refused"] is True
    assert {"name": "classifier.bias", "checkpoint_shape": [3], "model_shape": [1]} in head["mismatched_keys"]


def test_pickle_checkpoint_is_never_unpickled(tmp_path):
    class Payload:
        def __reduce__(self):
            return (open, (str(tmp_path / "unpickled"), "w"))

    directory = save_tiny("GPT2LMHeadModel", tiny_config("gpt2"), tmp_path / "pickled")
    (directory / "model.safetensors").unlink()
    (directory / "pytorch_model.bin").write_bytes(pickle.dumps(Payload()))
    data = amx_json("inspect", str(directory))
    assert not (tmp_path / "unpickled").exists()
    assert (data["source"], data["checkpoint_format"]) == ("meta", "pickle")
    assert any("pickle-based" in note and "prefer a safetensors" in note for note in data["notes"])
    assert data["total_parameters"] == data["head"]["num_parameters"] > 0
    assert data["head"]["missing_keys"] is None


def test_config_only_model_is_built_on_meta():
    data = amx_json("inspect", str(EXAMPLES / "llama-3-8b"))
    assert data["source"] == "meta" and data["checkpoint_format"] == "none"
    assert data["total_parameters"] == 8_030_261_248
    assert data["kv_cache"]["bytes_per_token"] == 2 * 32 * 8 * 128 * 2  # GQA: 8 key/value heads, F16
    assert data["memory_bytes"]["checkpoint"] == data["memory_bytes"]["float16"]
    assert {p["dtype"] for p in data["parameters"]} == {"F16"}


def test_gptq_checkpoint_shows_packed_tensors_and_unpacked_count(tmp_path):
    import torch
    import transformers
    from safetensors.torch import save_file

    config = tiny_config("llama", intermediate_size=64)
    config.quantization_config = {"quant_method": "gptq", "bits": 4, "group_size": 32, "sym": True}
    config.architectures = ["LlamaForCausalLM"]
    config.save_pretrained(tmp_path)
    unquantized = transformers.LlamaForCausalLM(tiny_config("llama", intermediate_size=64))
    tensors = {}
    for name, parameter in unquantized.state_dict().items():
        if parameter.dim() == 2 and ".layers." in name:  # a Linear: packed 8 int4 values per int32
            out_features, in_features = parameter.shape
            base = name.removesuffix(".weight")
            tensors[f"{base}.qweight"] = torch.zeros(in_features // 8, out_features, dtype=torch.int32)
            tensors[f"{base}.qzeros"] = torch.zeros(in_features // 32, out_features // 8, dtype=torch.int32)
            tensors[f"{base}.scales"] = torch.zeros(in_features // 32, out_features, dtype=torch.float16)
            tensors[f"{base}.g_idx"] = torch.zeros(in_features, dtype=torch.int32)
        else:
            tensors[name] = parameter.detach().to(torch.float16)
    save_file(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})

    data = amx_json("inspect", str(tmp_path))
    packed = next(p for p in data["parameters"] if p["name"] == "model.layers.0.self_attn.q_proj.qweight")
    assert packed == {"name": "model.layers.0.self_attn.q_proj.qweight", "shape": [4, 32], "dtype": "I32",
                      "buffer": False}
    assert data["quantization"]["method"] == "gptq" and data["quantization"]["bits"] == 4
    assert data["total_parameters"] == data["quantization"]["unpacked_parameters"] == unquantized.num_parameters()
    real_bytes = sum(t.numel() * t.element_size() for t in tensors.values())
    assert data["memory_bytes"]["checkpoint"] == data["quantization"]["checkpoint_bytes"] == real_bytes
    assert data["head"]["missing_keys"] is None and "quantized" in data["head"]["note"]


def test_markup_in_tensor_names_is_shown_literally(tmp_path):
    import torch
    from safetensors.torch import save_file

    directory = save_tiny("BertModel", tiny_config("bert"), tmp_path / "evil")
    save_file({"[bold red]boom[/bold red]": torch.zeros(2)}, directory / "model.safetensors",
              metadata={"format": "pt"})
    result = amx("inspect", str(directory))
    assert result.exit_code == 0, result.output
    assert "[bold red]boom[/bold red]" in result.stdout


# --- `amx heads --check-weights` -------------------------------------------------------------------


def test_heads_check_weights_uses_the_checkpoint(tmp_path):
    directory = save_tiny("BertForPreTraining", tiny_config("bert"), tmp_path / "pretraining")
    guessed = {h["auto_class"]: h["new_weights"] for h in amx_json("heads", str(directory))["heads"]}
    checked = {h["auto_class"]: h for h in amx_json("heads", str(directory), "--check-weights")["heads"]}
    # The class-level guess says a masked-LM head is new; the checkpoint holds BertForPreTraining's cls.predictions.
    assert guessed["AutoModelForMaskedLM"] is True and checked["AutoModelForMaskedLM"]["new_weights"] is False
    assert checked["AutoModelForSequenceClassification"]["new_weights"] is True
    assert "classifier.weight" in checked["AutoModelForSequenceClassification"]["note"]


# --- the real entry point --------------------------------------------------------------------------


def test_help_has_examples_and_errors_have_no_traceback(minilm):
    help_text = amx("inspect", "--help").stdout
    assert "amx inspect" in help_text and "--head" in help_text and "--filter" in help_text
    assert "inspect" in amx("--help").stdout
    result = run_amx_preloaded("inspect", str(minilm), "--head", "AutoModelForCTC")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "does not fit 'bert'" in result.stderr


def test_hub_model_reads_headers_not_weights(local_hub, tiny_bert_repo, tiny_bert_dir, tmp_path):
    """Over the local Hub: the same report as the local copy, and no weight file lands in the cache."""
    result = run_amx_preloaded("inspect", tiny_bert_repo, "--json", env=local_hub.env(tmp_path))
    assert result.returncode == 0, result.stderr
    remote, local = json.loads(result.stdout), amx_json("inspect", str(tiny_bert_dir))
    assert remote["model"] == tiny_bert_repo and remote["source"] == "safetensors"
    for key in ("total_parameters", "parameters", "memory_bytes", "head", "checkpoint_files"):
        assert remote[key] == local[key], key
    cached = {p.name for p in (tmp_path / "hub").glob("models--amx-test--tiny-bert-cls/snapshots/*/*")}
    assert "model.safetensors" not in cached


def test_malformed_header_is_one_line_and_exit_2(tmp_path):
    directory = save_tiny("BertModel", tiny_config("bert"), tmp_path / "broken")
    (directory / "model.safetensors").write_bytes((1000).to_bytes(8, "little") + b"{not json")
    result = run_amx_preloaded("inspect", str(directory))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "model.safetensors" in result.stderr
    assert "Traceback" not in result.stderr
