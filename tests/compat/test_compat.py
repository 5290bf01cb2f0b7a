"""automodel_cli/compat: each adapter gives the installed release's own answer (CI runs this file on the
newest and on the oldest declared transformers)."""

from __future__ import annotations

import pytest
from support.tiny_models import tiny_config

from automodel_cli.compat.config_defaults import config_class_defaults
from automodel_cli.compat.config_objects import config_object
from automodel_cli.compat.hub_http import http_library
from automodel_cli.compat.latent_cache import caches_latent
from automodel_cli.compat.layer_types import decoder_layer_types
from automodel_cli.compat.tying import tie_as_loaded


@pytest.mark.parametrize("model_type", ["llama", "bert", "gpt2", "t5", "whisper", "qwen2_vl"])
def test_config_defaults_are_what_an_empty_config_gets(model_type):
    from transformers import CONFIG_MAPPING

    config_class = CONFIG_MAPPING[model_type]
    defaults = config_class_defaults(config_class)
    built = config_class()
    compared = [name for name, value in defaults.items() if isinstance(value, (int, float, str, bool))]
    assert len(compared) >= 5
    for name in compared:
        assert getattr(built, name) == defaults[name], name


def test_meta_built_model_is_tied_like_a_real_one():
    import torch
    import transformers

    config = tiny_config("gpt2", tie_word_embeddings=True)
    real = transformers.GPT2LMHeadModel(config)
    with torch.device("meta"):
        meta = transformers.GPT2LMHeadModel(config)
    tie_as_loaded(meta)
    assert meta.lm_head.weight is meta.transformer.wte.weight
    assert meta.num_parameters() == real.num_parameters()
    tie_as_loaded(meta)  # tying a tied model changes nothing
    assert meta.num_parameters() == real.num_parameters()


def test_untied_config_stays_untied():
    import torch
    import transformers

    with torch.device("meta"):
        meta = transformers.GPT2LMHeadModel(tiny_config("gpt2", tie_word_embeddings=False))
    tie_as_loaded(meta)
    assert meta.lm_head.weight is not meta.transformer.wte.weight


def test_http_library_is_the_one_huggingface_hub_sends_with():
    from huggingface_hub import get_session

    assert isinstance(get_session(), http_library().Client)


def test_pipeline_classes_read_from_source_are_the_imported_ones():
    """Without torch, SUPPORTED_TASKS lists no class; the head index reads them from its source instead."""
    from transformers.pipelines import SUPPORTED_TASKS

    from automodel_cli.compat.pipeline_tasks import _from_source

    assert _from_source() == {task: [c.__name__ for c in spec["pt"]] for task, spec in SUPPORTED_TASKS.items()}
    assert _from_source()["token-classification"] == ["AutoModelForTokenClassification"]


def test_adapter_loader_read_from_source_is_the_imported_one():
    """transformers' peft integration imports torch; its load_adapter is compiled from source, never run."""
    from transformers.integrations.peft import PeftAdapterMixin

    from automodel_cli.compat.adapters import _code_of, _integration_code

    compiled = _code_of(_code_of(_integration_code(), "PeftAdapterMixin"), "load_adapter")
    assert compiled.co_names == PeftAdapterMixin.load_adapter.__code__.co_names
def _kinds_dynamic_cache_builds() -> list[str]:
    """State-space and linear-attention layers are DynamicCache layers only from the release that added
    LinearAttentionLayer (not in 5.0); before it, those models keep caches of their own classes."""
    import transformers.cache_utils

    linear = hasattr(transformers.cache_utils, "LinearAttentionLayer")
    return ["full", "sliding", "hybrid"] + (["state", "mamba2-hybrid", "gated-delta"] if linear else [])


@pytest.mark.parametrize("kind", _kinds_dynamic_cache_builds())
def test_layer_types_are_those_dynamic_cache_builds(kind):
    from support.real_cache import kind_config
    from transformers import DynamicCache

    config = kind_config(kind)
    layers = DynamicCache(config=config).layers
    built = ["sliding_attention" if getattr(layer, "is_sliding", False) else
             "linear_attention" if type(layer).__name__ == "LinearAttentionLayer" else "full_attention"
             for layer in layers]
    assert decoder_layer_types(config, config.num_hidden_layers) == built


def test_legacy_layer_names_are_renamed():
    class Legacy:
        layers_block_type = ["mamba", "attention", "moe"]

    assert decoder_layer_types(Legacy(), 3) == ["linear_attention", "full_attention", "dummy"]


def test_latent_caching_is_read_from_the_installed_module():
    assert isinstance(caches_latent("deepseek_v3"), bool)
    assert caches_latent("llama") is False
    assert caches_latent("no_such_model") is None and caches_latent("../deepseek_v3") is None


def test_config_objects_decode_the_floats_transformers_saved(tmp_path):
    import transformers

    from automodel_cli.files.config_reader import read_config

    transformers.Mamba2Config(num_hidden_layers=2, time_step_limit=(0.0, float("inf"))).save_pretrained(tmp_path)
    config = read_config(tmp_path / "config.json")
    assert config_object(config.model_type, config.raw).time_step_limit[1] == float("inf")
    assert config_object("no_such_model", {}) is None
