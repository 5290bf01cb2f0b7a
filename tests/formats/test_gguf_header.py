"""The GGUF header reader against files the `gguf` package (llama.cpp's own) writes and reads back,
and against malformed headers: every problem is one BadInputError, reading stays bounded."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.gguf_files import tiny_parameter_count, write_tiny_gguf
from support.hostile import GGUF_CASES, gguf_bytes

from automodel_cli.base.errors import BadInputError
from automodel_cli.formats.gguf_header import (
    FILE_TYPES,
    FIRST_READ,
    GGML_TYPES,
    KEPT_ARRAY_LENGTH,
    LongArray,
    read_gguf_file,
    read_gguf_header,
)

gguf = pytest.importorskip("gguf")


def _flatten(value):
    if isinstance(value, list):
        return [item for element in value for item in _flatten(element)]
    return [value]


@pytest.fixture(scope="module")
def every_value_type(tmp_path_factory) -> Path:
    """A file with one metadata value of every GGUF type, arrays nested, and a few tensors."""
    path = tmp_path_factory.mktemp("values") / "values.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    types = gguf.GGUFValueType
    for key, value, value_type in [("u8", 200, types.UINT8), ("i8", -100, types.INT8), ("u16", 60000, types.UINT16),
                                   ("i16", -30000, types.INT16), ("u32", 4_000_000_000, types.UINT32),
                                   ("i32", -2_000_000_000, types.INT32), ("f32", 0.5, types.FLOAT32),
                                   ("bool", True, types.BOOL), ("str", "héllo ✓", types.STRING),
                                   ("u64", 2**63 + 5, types.UINT64), ("i64", -(2**62), types.INT64),
                                   ("f64", 1e300, types.FLOAT64)]:
        writer.add_key_value(f"x.{key}", value, value_type)
    writer.add_array("x.ints", [1, 2, 3])
    writer.add_array("x.strings", ["a", "bc", ""])
    writer.add_array("x.nested", [[1, 2], [3], [[4], [5, 6]]])
    writer.add_array("x.long", list(range(KEPT_ARRAY_LENGTH + 1)))
    writer.add_array("x.long_strings", [f"t{i}" for i in range(KEPT_ARRAY_LENGTH + 1)])
    import numpy as np

    writer.add_tensor("w.f32", np.ones((3, 5), dtype=np.float32))
    writer.add_tensor("w.f16", np.ones((2, 4, 6), dtype=np.float16))
    data = np.ones((4, 64), dtype=np.float32)
    writer.add_tensor("w.q8", gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0),
                      raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_metadata_and_tensors_match_the_gguf_package(every_value_type):
    header = read_gguf_file(every_value_type)
    reader = gguf.GGUFReader(str(every_value_type))
    assert header.version == 3 and header.architecture == "llama"
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        mine = header.metadata[key]
        if isinstance(mine, LongArray):
            assert mine.length == len(field.data)
            continue
        theirs = field.contents()
        assert _flatten(mine) == pytest.approx(_flatten(theirs)) if isinstance(theirs, list) else mine == (
            pytest.approx(theirs) if isinstance(theirs, float) else theirs), key
    assert header.metadata["x.nested"] == [[1, 2], [3], [[4], [5, 6]]]
    assert header.value_types["x.u64"] == "UINT64" and header.metadata["x.bool"] is True
    assert header.data_start == reader.data_offset
    by_name = {t.name: t for t in header.tensors}
    assert list(by_name) == [t.name for t in reader.tensors]
    for tensor in reader.tensors:
        mine = by_name[tensor.name]
        assert mine.shape == tuple(int(d) for d in reversed(tensor.shape.tolist()))
        assert mine.ggml_type == tensor.tensor_type.name
        assert header.data_start + mine.offset == tensor.data_offset
        assert mine.nbytes == tensor.n_bytes
    assert by_name["w.q8"].shape == (4, 64) and by_name["w.f16"].shape == (2, 4, 6)


def test_version_2_reads_like_version_3(every_value_type, tmp_path):
    raw = bytearray(every_value_type.read_bytes())
    raw[4:8] = struct.pack("<I", 2)
    (tmp_path / "v2.gguf").write_bytes(raw)
    v2, v3 = read_gguf_file(tmp_path / "v2.gguf"), read_gguf_file(every_value_type)
    assert v2.version == 2 and v2.tensors == v3.tensors and v2.metadata == v3.metadata


def test_type_tables_match_the_gguf_package():
    quant_sizes = {t.value: (t.name, *gguf.constants.GGML_QUANT_SIZES[t]) for t in gguf.GGMLQuantizationType}
    assert all(quant_sizes[type_id] == entry for type_id, entry in GGML_TYPES.items())
    file_types = {t.value: t.name.removeprefix("MOSTLY_") for t in gguf.LlamaFileType if t.name != "GUESSED"}
    assert {k: v for k, v in FILE_TYPES.items() if k in file_types} == {**file_types, 0: "F32"}


def test_reads_the_header_in_growing_ranges_and_never_the_tensor_data(tmp_path):
    path = write_tiny_gguf(tmp_path / "big-vocab.gguf", vocab=20_000)
    content = path.read_bytes()
    reads: list[tuple[int, int]] = []

    def fetch(start: int, end: int):
        reads.append((start, end))
        return content[start:end], None

    header = read_gguf_header(fetch, file_size=None, where="big-vocab.gguf")
    assert len(header.metadata["tokenizer.ggml.tokens"]) == 20_000
    assert sum(t.numel for t in header.tensors) == tiny_parameter_count("llama", vocab=20_000)
    assert len(reads) > 2 and reads[0] == (0, FIRST_READ)
    assert all(start == previous_end for (start, _), (_, previous_end) in zip(reads[1:], reads))
    assert header.bytes_read == reads[-1][1] <= 2 * header.data_start < len(content)


@pytest.mark.parametrize("name", sorted(GGUF_CASES))
def test_malformed_headers_are_one_clear_error(name):
    content, message = GGUF_CASES[name]
    with pytest.raises(BadInputError) as raised:
        read_gguf_header(lambda start, end: (content[start:end], None), file_size=len(content), where="f.gguf")
    assert raised.value.message.startswith("f.gguf: ") and message in raised.value.message
    assert "\n" not in raised.value.message


def test_every_truncation_of_a_real_header_is_one_clear_error(tmp_path):
    content = write_tiny_gguf(tmp_path / "t.gguf").read_bytes()
    data_start = read_gguf_file(tmp_path / "t.gguf").data_start
    for cut in range(0, data_start + 64, 7):
        with pytest.raises(BadInputError, match="not a GGUF file|ends inside its GGUF header|past the end"):
            read_gguf_header(lambda start, end: (content[start:end], None), file_size=cut, where="t.gguf")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_headers_parse_or_fail_cleanly(data):
    content = bytearray(gguf_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    try:
        header = read_gguf_header(lambda start, end: (bytes(content[start:end]), None), file_size=len(content),
                                  where="fuzz.gguf")
    except BadInputError as error:
        assert error.message.startswith("fuzz.gguf: ")
    else:
        assert all(header.data_start + t.offset + t.nbytes <= len(content) for t in header.tensors)
