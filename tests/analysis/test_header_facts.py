"""`on_headers`: what the headers say, handed over once, before the report, and equal to what the files hold
(read back with the safetensors and gguf packages); never for shapes that answer at the end."""

from __future__ import annotations

import math
import shutil

import pytest
from support.gguf_files import write_tiny_gguf
from support.tiny_models import save_tiny, tiny_config

from automodel_cli.analysis.repository import inspect_repository
from automodel_cli.repository.dispatch import resolve_repository


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("header-facts")
    llama = save_tiny("LlamaForCausalLM", tiny_config("llama"), root / "llama", "bfloat16")
    config_only = root / "config-only"
    config_only.mkdir()
    shutil.copy(llama / "config.json", config_only)
    return {"llama": llama, "config-only": config_only, "gguf": write_tiny_gguf(root / "gguf" / "tiny-Q8_0.gguf",
                                                                                  ggml_type="Q8_0")}


def inspected(path):
    calls = []
    report = inspect_repository(resolve_repository(str(path)), on_headers=calls.append)
    return calls, report


def test_safetensors_facts_are_what_the_file_holds(folders):
    from safetensors import safe_open

    calls, report = inspected(folders["llama"])
    path = folders["llama"] / "model.safetensors"
    with safe_open(path, "pt") as handle:
        shapes = {name: handle.get_slice(name).get_shape() for name in handle.keys()}
    stored = sum(math.prod(shape) for shape in shapes.values())
    [facts] = calls
    assert facts.checkpoint_format == "safetensors" and facts.checkpoint_files == ["model.safetensors"]
    assert facts.checkpoint_bytes == path.stat().st_size
    assert facts.tensors == len(shapes) and facts.parameters == stored
    assert facts.dtypes == {"BF16": stored} and facts.gguf is None
    assert report.dtypes == facts.dtypes and report.checkpoint_bytes == facts.checkpoint_bytes


def test_gguf_facts_are_what_the_header_holds(folders):
    import gguf

    calls, report = inspected(folders["gguf"])
    reader = gguf.GGUFReader(folders["gguf"])
    by_type: dict[str, int] = {}
    for tensor in reader.tensors:
        by_type[tensor.tensor_type.name] = by_type.get(tensor.tensor_type.name, 0) + int(tensor.n_elements)
    [facts] = calls
    assert facts.checkpoint_format == "gguf" and facts.checkpoint_files == [folders["gguf"].name]
    assert facts.checkpoint_bytes == folders["gguf"].stat().st_size
    assert facts.tensors == len(reader.tensors) and facts.parameters == sum(by_type.values())
    assert facts.dtypes == by_type
    assert facts.gguf.file == folders["gguf"].name and facts.gguf.quantization == "Q8_0"
    assert not facts.gguf.transformers_loadable  # the header's part only: what transformers says comes after
    assert report.gguf.transformers_loadable and report.gguf.tensor_types == facts.gguf.tensor_types


def test_a_config_only_model_has_no_headers_to_show(folders):
    calls, report = inspected(folders["config-only"])
    assert calls == [] and report.source == "meta"
