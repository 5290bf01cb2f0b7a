"""What `from_pretrained(..., output_loading_info=True)` would report, predicted from tensor names and shapes.

Rather than re-implementing transformers' loading rules (key renaming and legacy conversions, the
base-model prefix added or stripped, tied weights, `_keys_to_ignore_on_load_*`, stale buffers such as
`position_ids` and `rotary_emb.inv_freq`), amx runs transformers' own loading code on the meta-built
model, feeding it meta tensors of the checkpoint's shapes: the same functions `from_pretrained` calls,
with no data read and nothing allocated. Quantized checkpoints are not predicted: their quantizer
replaces layers at load time, which needs the quantization backend itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from .meta_build import TORCH_TO_SAFETENSORS, quiet_transformers

# Only shapes matter for the prediction, so dtypes torch lacks (F4, F6...) become uint8.
_TORCH_DTYPES = {safetensors: torch for torch, safetensors in TORCH_TO_SAFETENSORS.items()}


class TensorLike(Protocol):
    name: str
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class Mismatch:
    name: str
    checkpoint_shape: tuple[int, ...]
    model_shape: tuple[int, ...]


@dataclass
class LoadPrediction:
    missing_keys: list[str]  # newly initialised by from_pretrained
    unexpected_keys: list[str]  # in the checkpoint, unused by this class
    mismatched_keys: list[Mismatch]  # from_pretrained raises unless ignore_mismatched_sizes=True
    # Checkpoint names that are not parameters of this class: its buffers, and the stale keys
    # transformers drops silently (position_ids, inv_freq, _keys_to_ignore_on_load_unexpected).
    not_parameters: set[str] = field(default_factory=set)
    model_names: dict[str, str] = field(default_factory=dict)  # checkpoint name -> model name, when renamed

    @property
    def refused(self) -> bool:
        """transformers refuses the load (RuntimeError) unless ignore_mismatched_sizes=True."""
        return bool(self.mismatched_keys)


def _meta_state_dict(tensors: Iterable[TensorLike]) -> dict:
    import torch

    return {
        t.name: torch.empty(tuple(t.shape), dtype=getattr(torch, _TORCH_DTYPES.get(t.dtype, "uint8")), device="meta")
        for t in tensors
    }


def _model_names(model, names: list[str], weight_mapping: list) -> dict[str, str]:
    """Checkpoint name -> model name, by the two-step rule of `convert_and_load_state_dict_in_model`."""
    from transformers.core_model_loading import WeightConverter, WeightRenaming, rename_source_key

    renamings = [entry for entry in weight_mapping if isinstance(entry, WeightRenaming)]
    converters = [entry for entry in weight_mapping if isinstance(entry, WeightConverter)]
    expected = model.state_dict()
    prefix = model.base_model_prefix
    renamed = {}
    for name in names:
        target, _ = rename_source_key(name, renamings, converters, prefix, expected)
        if target not in expected and name in expected:
            target, _ = rename_source_key(name, [], [], base_model_prefix=prefix, meta_state_dict=expected)
        renamed[name] = target
    return renamed


def _exact_match(model, tensors: list[TensorLike]) -> LoadPrediction | None:
    """The common case, without running the loader: the checkpoint holds exactly the model's state.

    Then nothing is renamed, missing, unused or mismatched; only saved buffers are not parameters.
    (Running transformers' loader on a 400B checkpoint costs about 0.3 s.)
    """
    expected = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    if len(expected) != len(tensors) or any(expected.get(t.name) != tuple(t.shape) for t in tensors):
        return None
    buffers = {name for name, _ in model.named_buffers(remove_duplicate=False)}
    return LoadPrediction([], [], [], not_parameters={t.name for t in tensors if t.name in buffers})


def predict_loading(model, tensors: Iterable[TensorLike]) -> LoadPrediction:
    """Run transformers' loading of a checkpoint with these tensors into `model` (a meta-device module).

    The module is modified as `from_pretrained` modifies its model (parameters replaced, weights tied);
    describe it first if its parameter list is needed.
    """
    tensors = list(tensors)
    exact = _exact_match(model, tensors)
    if exact is not None:
        return exact
    import torch
    from transformers.conversion_mapping import get_model_conversion_mapping
    from transformers.core_model_loading import convert_and_load_state_dict_in_model
    from transformers.modeling_utils import LoadStateDictConfig

    state_dict = _meta_state_dict(tensors)
    with quiet_transformers():
        weight_mapping = get_model_conversion_mapping(model)
        model_names = _model_names(model, list(state_dict), weight_mapping)
        load_config = LoadStateDictConfig(device_map={"": "meta"}, weight_mapping=weight_mapping,
                                          dtype=next(model.parameters(), torch.empty(0)).dtype)
        info, _ = convert_and_load_state_dict_in_model(model=model, state_dict=state_dict, load_config=load_config)
        # The post-processing steps of `_finalize_model_loading` that change the reported sets.
        model.mark_tied_weights_as_initialized(info)
        model.tie_weights(missing_keys=info.missing_keys, recompute_mapping=False)
        unexpected_before = set(info.unexpected_keys)
        model._adjust_missing_and_unexpected_keys(info)

    dropped = unexpected_before - info.unexpected_keys
    buffers = {name for name, _ in model.named_buffers(remove_duplicate=False)}
    not_parameters = {name for name, target in model_names.items() if target in buffers or target in dropped}
    return LoadPrediction(
        missing_keys=sorted(info.missing_keys),
        unexpected_keys=sorted(info.unexpected_keys),
        mismatched_keys=sorted(
            (Mismatch(name, tuple(checkpoint), tuple(expected)) for name, checkpoint, expected in info.mismatched_keys),
            key=lambda m: m.name,
        ),
        not_parameters=not_parameters,
        model_names={name: target for name, target in model_names.items() if target != name},
    )
