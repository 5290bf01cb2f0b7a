"""Meta-device builds: the parameters and counts of transformers' own model, without allocating weights."""

from __future__ import annotations

import json

import pytest
from support import EXAMPLES, LLAMA_405B
from support.tiny_models import tiny_config

from automodel_cli.base.errors import BadInputError, UnsupportedModelError
from automodel_cli.compat.tying import tie_as_loaded
from automodel_cli.files.config_reader import read_config
from automodel_cli.knowledge.head_index import load_index
from automodel_cli.meta.meta_build import build_meta_model, describe, resolve_head


@pytest.fixture(scope="module")
def index():
    return load_index()


def write_config(directory, raw: dict):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(raw))
    return read_config(directory / "config.json")


def test_llama_405b_builds_on_meta_with_exact_counts(tmp_path, index):
    meta = build_meta_model(write_config(tmp_path, LLAMA_405B), index)
    assert (meta.auto_class, meta.model_class, meta.dtype) == ("AutoModelForCausalLM", "LlamaForCausalLM", "BF16")
    assert meta.num_parameters == 405_853_388_800
    assert meta.embedding_parameters == 2 * 128256 * 16384  # embed_tokens and the untied lm_head
    assert all(p.dtype == "BF16" for p in meta.parameters)
    assert next(p for p in meta.parameters if p.name == "model.layers.125.self_attn.k_proj.weight").shape == (1024, 16384)
    assert {p.device.type for p in meta.module.parameters()} == {"meta"}


@pytest.mark.parametrize(("family", "model_class"), [("gpt2", "GPT2LMHeadModel"), ("bert", "BertForMaskedLM"),
                                                     ("t5", "T5ForConditionalGeneration"), ("llama", "LlamaForCausalLM")])
def test_counts_equal_a_real_model(family, model_class, tmp_path, index):
    """num_parameters as transformers counts it: tied weights once, buffers never."""
    import transformers

    config = tiny_config(family, tie_word_embeddings=True)
    real = getattr(transformers, model_class)(config)
    config.save_pretrained(tmp_path)
    raw = json.loads((tmp_path / "config.json").read_text())
    meta = build_meta_model(write_config(tmp_path, {**raw, "architectures": [model_class]}), index)
    assert meta.model_class == model_class
    assert meta.num_parameters == real.num_parameters()
    assert sum(p.numel for p in meta.parameters if not p.buffer) == real.num_parameters()
    tied_aliases = {n for n, _ in real.named_parameters(remove_duplicate=False)} - {n for n, _ in real.named_parameters()}
    assert {p.name for p in meta.parameters} == set(real.state_dict()) - tied_aliases


def test_buffers_are_listed_but_not_counted(tmp_path, index):
    """BatchNorm's running statistics are saved (persistent buffers) but are not parameters."""
    raw = {"model_type": "resnet", "architectures": ["ResNetForImageClassification"], "embedding_size": 8,
           "hidden_sizes": [8, 16], "depths": [1, 1], "num_labels": 3}
    meta = build_meta_model(write_config(tmp_path, raw), index)
    buffers = [p for p in meta.parameters if p.buffer]
    assert buffers and any(p.name.endswith("running_mean") for p in buffers)
    assert meta.num_parameters == sum(p.numel for p in meta.parameters if not p.buffer)


def test_resolve_head_defaults_to_native_and_rejects_others(index):
    gpt2 = read_config(EXAMPLES / "gpt2" / "config.json")
    assert resolve_head(gpt2, index, None) == ("AutoModelForCausalLM", "GPT2LMHeadModel", False)
    assert resolve_head(gpt2, index, "AutoModelForTokenClassification")[1] == "GPT2ForTokenClassification"
    assert resolve_head(gpt2, index, "causal-lm") == ("AutoModelForCausalLM", "GPT2LMHeadModel", False)
    with pytest.raises(BadInputError, match="unknown Auto class 'GPT2LMHeadModel'"):
        resolve_head(gpt2, index, "GPT2LMHeadModel")
    with pytest.raises(UnsupportedModelError, match="does not fit 'gpt2'"):
        resolve_head(gpt2, index, "AutoModelForImageClassification")


def test_remote_code_is_not_imported_without_trust(tmp_path, index):
    marker = tmp_path / "imported"
    (tmp_path / "modeling_x.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    config = write_config(tmp_path, {"model_type": "x-remote", "architectures": ["XForCausalLM"],
                                     "auto_map": {"AutoModelForCausalLM": "modeling_x.XForCausalLM"}})
    with pytest.raises(UnsupportedModelError, match="repository code") as error:
        build_meta_model(config, index)
    assert "--trust-remote-code" in error.value.hint
    assert not marker.exists()


def test_describe_names_embeddings_under_every_alias(tmp_path, index):
    import torch
    import transformers

    config = tiny_config("gpt2", tie_word_embeddings=True)
    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(config)
    tie_as_loaded(model)  # transformers 5.0 does not tie on the meta device by itself
    meta = describe(model, "AutoModelForCausalLM", "GPT2LMHeadModel")
    assert {"transformer.wte.weight", "lm_head.weight", "transformer.wpe.weight"} <= meta.embedding_names
    assert meta.embedding_parameters == (99 + 64) * 32


def test_remote_code_builds_with_trust_from_a_local_directory(tmp_path, index):
    (tmp_path / "configuration_x.py").write_text(
        "from transformers import PretrainedConfig\n"
        "class XConfig(PretrainedConfig):\n"
        "    model_type = 'x-remote'\n"
        "    def __init__(self, width=8, **kwargs):\n"
        "        self.width = width\n"
        "        super().__init__(**kwargs)\n")
    (tmp_path / "modeling_x.py").write_text(
        "import torch\nfrom transformers import PreTrainedModel\nfrom .configuration_x import XConfig\n"
        "class XModel(PreTrainedModel):\n"
        "    config_class = XConfig\n"
        "    def __init__(self, config):\n"
        "        super().__init__(config)\n"
        "        self.proj = torch.nn.Linear(config.width, config.width)\n"
        "        self.post_init()\n")
    config = write_config(tmp_path, {"model_type": "x-remote", "architectures": ["XModel"], "width": 16,
                                     "auto_map": {"AutoConfig": "configuration_x.XConfig",
                                                  "AutoModel": "modeling_x.XModel"}})
    meta = build_meta_model(config, index, trust_remote_code=True, local_dir=tmp_path)
    assert (meta.auto_class, meta.model_class, meta.num_parameters) == ("AutoModel", "XModel", 16 * 16 + 16)
    assert {p.device.type for p in meta.module.parameters()} == {"meta"}
