"""The sizes `amx inspect` shows from config.json alone, against the config object transformers builds."""

from __future__ import annotations

import pytest
from support import EXAMPLES

from automodel_cli.files.config_reader import read_config
from automodel_cli.knowledge.config_summary import summarize_config


@pytest.mark.parametrize("example, attribute", [
    ("deepseek-r1-fp8", "qk_head_dim"),  # multi-head latent attention: 128 without rotary + 64 rotary
    ("qwen2.5-0.5b-instruct", "head_dim"),
    ("gpt-oss-20b", "head_dim"),
])
def test_head_dim_is_the_query_and_key_head_transformers_builds(example, attribute):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(EXAMPLES / example)
    expected = getattr(config, attribute, None) or config.hidden_size // config.num_attention_heads
    assert summarize_config(read_config(EXAMPLES / example / "config.json")).head_dim == expected
