"""automodel_cli/compat: each adapter gives the installed release's own answer (CI runs this file on the
newest and on the oldest declared transformers)."""

from __future__ import annotations

import pytest
from support.tiny_models import tiny_config

from automodel_cli.compat.config_defaults import config_class_defaults
from automodel_cli.compat.hub_http import http_library
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
