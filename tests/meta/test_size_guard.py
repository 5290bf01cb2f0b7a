"""Configs larger than any real model are refused before or while they are built, naming the field;
real sizes (a 405B llama, Doge's 16,384 experts, every default config) still build."""

from __future__ import annotations

import json

import pytest
from support import LLAMA_405B, run_amx

from automodel_cli.base.errors import ConfigTooLargeError
from automodel_cli.files.config_reader import read_config
from automodel_cli.knowledge.head_index import load_index
from automodel_cli.meta.meta_build import build_meta_model
from automodel_cli.meta.size_guard import MAX_REAL_BYTES, check_counts, largest_field

LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 64,
         "num_hidden_layers": 2, "num_attention_heads": 2, "vocab_size": 99}


def write(directory, **overrides):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps({**LLAMA, **overrides}))
    return directory


@pytest.mark.parametrize(("raw", "named"), [
    ({"num_hidden_layers": 10**9}, "num_hidden_layers=1,000,000,000"),
    ({"text_config": {"num_hidden_layers": 5000}}, "text_config.num_hidden_layers=5,000"),
    ({"depths": [2, 2, 10**6, 2]}, "depths=1,000,000"),
    ({"num_local_experts": 2**30}, "num_local_experts=1,073,741,824"),
])
def test_repetition_counts_beyond_real_models_are_refused_before_parsing(raw, named):
    with pytest.raises(ConfigTooLargeError, match=named):
        check_counts(raw, "config.json")


@pytest.mark.parametrize("raw", [
    {"num_hidden_layers": 126, "num_experts": 16384, "depths": [2, 2, 18, 2]},
    {"mm_vision_select_layer": -2, "moe_layers": list(range(200)), "embed_dim_per_stage": [96, 192, 384, 768]},
])
def test_real_counts_and_fields_that_are_not_counts_pass(raw):
    check_counts(raw, "config.json")


def test_the_field_to_blame_is_the_one_furthest_above_its_default():
    from transformers import LlamaConfig, LlavaConfig

    raw = {"hidden_size": 8192, "vocab_size": 32000}
    assert largest_field(raw, LlamaConfig()) == ("hidden_size=8,192", 2.0)
    assert largest_field({**raw, "intermediate_size": 10**9}, LlamaConfig())[0] == "intermediate_size=1,000,000,000"
    nested = {"text_config": {"hidden_size": 4096 * 1000}, "vision_config": {"hidden_size": 1024}}
    assert largest_field(nested, LlavaConfig()) == ("text_config.hidden_size=4,096,000", 1000.0)


def test_a_real_405b_config_still_builds(tmp_path):
    meta = build_meta_model(read_config(write(tmp_path, **LLAMA_405B) / "config.json"), load_index())
    assert meta.num_parameters == 405_853_388_800


@pytest.mark.parametrize(("overrides", "named", "problem"), [
    ({"num_hidden_layers": 10**9}, "num_hidden_layers=1,000,000,000", "more layers than any real model"),
    ({"hidden_size": 2**40}, "hidden_size=1,099,511,627,776", "parameters, more than any real model"),
    ({"model_type": "hubert", "architectures": ["HubertModel"], "hidden_size": 10**9},
     "hidden_size=1,000,000,000", f"more than {MAX_REAL_BYTES // 2**20} MiB of real memory"),
])
@pytest.mark.parametrize("as_json", [False, True])
def test_inspect_refuses_an_oversized_config_in_one_line(tmp_path, overrides, named, problem, as_json):
    result = run_amx("inspect", str(write(tmp_path, **overrides)), *(["--json"] if as_json else []), timeout=60)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == 2 and result.stdout == ""
    assert len(errors) == 1 and named in errors[0] and problem in errors[0]


def test_heads_still_reads_an_oversized_config_without_building_it(tmp_path):
    result = run_amx("heads", str(write(tmp_path, num_hidden_layers=10**9)), "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["native_head"] == "AutoModelForCausalLM"
