"""The config.json reader: whatever bytes a stranger wrote, it returns a ModelConfig or a ConfigError."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automodel_cli.base.errors import ConfigError
from automodel_cli.files.config_reader import ModelConfig, read_config

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _read(tmp_path, content: bytes):
    path = tmp_path / "config.json"
    path.write_bytes(content)
    return read_config(path)


@PROPERTY
@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_but_a_config_error(tmp_path, content):
    try:
        assert isinstance(_read(tmp_path, content), ModelConfig)
    except ConfigError as error:
        assert str(tmp_path / "config.json") in error.message and "\n" not in error.message


@PROPERTY
@given(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=8))
def test_any_json_object_is_read_or_refused_with_a_reason(tmp_path, data):
    try:
        config = _read(tmp_path, json.dumps(data).encode())
    except ConfigError as error:
        assert any(key in error.message for key in ("model_type", "architectures", "auto_map"))
        return
    assert config.raw == data or json.dumps(config.raw) == json.dumps(data)  # NaN != NaN


@PROPERTY
@given(
    model_type=st.text(min_size=1, max_size=30),
    architectures=st.lists(st.text(max_size=30), max_size=4),
    auto_map=st.dictionaries(st.text(max_size=20), st.text(max_size=30) | st.lists(st.text(max_size=5)), max_size=3),
    bom=st.booleans(),
)
def test_valid_configs_round_trip(tmp_path, model_type, architectures, auto_map, bom):
    raw = json.dumps({"model_type": model_type, "architectures": architectures, "auto_map": auto_map}).encode()
    config = _read(tmp_path, (b"\xef\xbb\xbf" if bom else b"") + raw)
    assert config.model_type == model_type and config.architectures == architectures
    assert config.auto_map == {k: v for k, v in auto_map.items() if isinstance(v, str)}
    assert config.native_architecture == (architectures[0] if architectures else None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"model_type": "bert", "n": ' + b"9" * 5000 + b"}", "integer with thousands of digits"),
        (b'{"model_type": "bert", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nested too deeply"),
        (b'"just a string"', "must be a JSON object, found a string"),
        (b"", "empty"),
    ],
)
def test_hostile_but_plausible_files(tmp_path, content, message):
    with pytest.raises(ConfigError, match=message):
        _read(tmp_path, content)


def test_nan_and_infinity_are_numbers_as_in_transformers(tmp_path):
    config = _read(tmp_path, b'{"model_type": "bert", "layer_norm_eps": NaN, "x": -Infinity}')
    assert config.raw["x"] == float("-inf")
