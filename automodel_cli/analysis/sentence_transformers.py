"""`amx inspect` of a sentence-transformers model: each module's configuration and parameters, and the dimension
of the embeddings the chain outputs."""

from __future__ import annotations

import math
from typing import Any

from ..base.errors import AmxError
from ..files.config_reader import load_json_object
from ..files.repository_files import RepositoryFiles
from ..formats.param_groups import group_tensors
from ..formats.safetensors_header import read_headers
from ..formats.tensors import TensorSpec, memory_for
from ..repository.dispatch import Repository
from ..shapes.sentence_transformers import SentenceChain, SentenceModule
from .report import InspectReport


def _pooling_modes(config: dict[str, Any]) -> list[str]:
    mode = config.get("pooling_mode")
    if isinstance(mode, str):
        return [mode]
    if isinstance(mode, list) and all(isinstance(m, str) for m in mode):
        return mode
    return [name for key, name in LEGACY_POOLING_FLAGS.items() if config.get(key) is True] or ["mean"]


def _int(config: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _describe(module: SentenceModule, config: dict[str, Any], hidden_size: int | None) -> None:
    if module.type == "Pooling":
        modes = _pooling_modes(config)
        dimension = _int(config, "embedding_dimension", "word_embedding_dimension")
        module.description = "+".join(modes)
        module.output_dimension = len(modes) * dimension if dimension is not None else None
        module.num_parameters = 0
    elif module.type == "Dense":
        inputs, outputs = _int(config, "in_features"), _int(config, "out_features")
        activation = config.get("activation_function")
        activation = activation.rpartition(".")[2] if isinstance(activation, str) else "Identity"
        module.description = f"{inputs} → {outputs}, {activation}"
        module.output_dimension = outputs
    elif module.type == "Normalize":
        module.description = "L2"
        module.num_parameters = 0
    elif module.type == "Transformer":
        module.output_dimension = hidden_size


def measure_chain(repository: Repository, transformer_parameters: int | None, hidden_size: int | None,
                  token: str | None = None) -> tuple[SentenceChain, list[TensorSpec], int]:
    """Each module's configuration and parameters (from its safetensors header) and the embedding dimension,
    as sentence-transformers' get_sentence_embedding_dimension finds it (the last module that has one).

    Returns the chain, the tensors of the modules other than the Transformer (named `path/tensor`), and
    their bytes of tensor data.
    """
    chain: SentenceChain = repository.modules
    root = RepositoryFiles.listed(repository.ref, token)
    tensors: list[TensorSpec] = []
    data_bytes = 0
    for module in chain.modules:
        if module.type == "Transformer":
            module.num_parameters = transformer_parameters if module.path == chain.transformer_path else None
            _describe(module, {}, hidden_size)
            continue
        folder = root.inside(module.path) if module.path else root
        config: dict[str, Any] = {}
        try:
            if folder.has("config.json"):
                config = load_json_object(folder.locate("config.json"), f"{module.type} config")
        except AmxError as error:
            module.note = f"config not read: {error.message}"
        _describe(module, config, hidden_size)
        if module.num_parameters is not None or not module.path:
            continue
        try:
            headers = read_headers(folder.ref, token=token)
        except AmxError as error:
            module.note = f"weights not read: {error.message}"
            continue
        if headers.format == "pickle":
            module.note = "pickle-based weights, never opened"
            continue
        module.num_parameters = sum(math.prod(t.shape) for t in headers.tensors)
        tensors.extend(TensorSpec(f"{module.path}/{t.name}", tuple(t.shape), t.dtype) for t in headers.tensors)
        data_bytes += sum(t.nbytes for t in headers.tensors)
    chain.embedding_dimension = next(
        (m.output_dimension for m in reversed(chain.modules) if m.output_dimension is not None), None)
    return chain, tensors, data_bytes


# sentence-transformers' legacy pooling flags -> the mode names of its `pooling_mode`.
LEGACY_POOLING_FLAGS = {
    "pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max", "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean", "pooling_mode_lasttoken": "lasttoken",
}


def add_module_tensors(report: InspectReport, tensors: list[TensorSpec], data_bytes: int) -> None:
    """A sentence-transformers model counts its Pooling, Dense... modules too, as the loaded model does."""
    if not tensors:
        return
    added = sum(t.numel for t in tensors)
    report.parameters = report.parameters + tensors
    report.groups = group_tensors(report.parameters)
    report.total_parameters += added
    if report.non_embedding_parameters is not None:
        report.non_embedding_parameters += added
    for tensor in tensors:
        report.dtypes[tensor.dtype] = report.dtypes.get(tensor.dtype, 0) + tensor.numel
    report.memory_bytes = memory_for(report.total_parameters, report.memory_bytes["checkpoint"] + data_bytes)
    if report.checkpoint_bytes is not None:
        report.checkpoint_bytes += data_bytes
