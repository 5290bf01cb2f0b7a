"""What `from_pretrained(..., output_loading_info=True)` would report, predicted from tensor names and shapes.

Rather than re-implementing transformers' loading rules (key renaming and legacy conversions, the
base-model prefix added or stripped, tied weights, `_keys_to_ignore_on_load_*`, stale buffers such as
`position_ids` and `rotary_emb.inv_freq`), amx runs transformers' own loading code on the meta-built
model, feeding it meta tensors of the checkpoint's shapes: the same functions `from_pretrained` calls,
with no data read and nothing allocated. A quantized checkpoint that loads quantized gives each packed
weight under its logical name with no shape (`shape is None`): it takes the model's own shape, as the
quantizer's layer takes the packed tensors without comparing them with the unquantized shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ..compat.loading import run_loader
from ..formats.tensors import TORCH_TO_SAFETENSORS
from .meta_build import quiet_transformers

# Only shapes matter for the prediction, so dtypes torch lacks (F4, F6...) become uint8.
_TORCH_DTYPES = {safetensors: torch for torch, safetensors in TORCH_TO_SAFETENSORS.items()}


class TensorLike(Protocol):
    name: str
    shape: tuple[int, ...] | None  # None: the model's own shape for that name (a packed weight)
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


def _model_shape(model_state: dict, prefix: str, name: str) -> tuple[int, ...]:
    """The shape the model has for a checkpoint name, with or without the base model's prefix; (1,) when
    it has none (the name is unexpected whatever its shape)."""
    for candidate in (name, name.removeprefix(f"{prefix}."), f"{prefix}.{name}"):
        if candidate in model_state:
            return tuple(model_state[candidate].shape)
    return (1,)


def _meta_state_dict(tensors: Iterable[TensorLike], model_state: dict, prefix: str) -> dict:
    import torch

    return {
        t.name: torch.empty(tuple(t.shape) if t.shape is not None else _model_shape(model_state, prefix, t.name),
                            dtype=getattr(torch, _TORCH_DTYPES.get(t.dtype, "uint8")), device="meta")
        for t in tensors
    }


def _model_names(model_state: dict, prefix: str, names: list[str], weight_mapping: list,
                 loader_unexpected: set[str]) -> dict[str, str]:
    """Checkpoint name -> model name, as `convert_and_load_state_dict_in_model` renamed it.

    A name the model has that renaming would turn into one it lacks is kept as is by releases that retry
    without renaming; 5.0 does not retry, and its loader reports the renamed key as unexpected.
    """
    from transformers.core_model_loading import (
        WeightConverter,
        WeightRenaming,
        rename_source_key,
    )

    renamings = [entry for entry in weight_mapping if isinstance(entry, WeightRenaming)]
    converters = [entry for entry in weight_mapping if isinstance(entry, WeightConverter)]
    renamed = {}
    for name in names:
        target, _ = rename_source_key(name, renamings, converters, prefix, model_state)
        if target not in model_state and name in model_state and target not in loader_unexpected:
            target, _ = rename_source_key(name, [], [], prefix, model_state)
        renamed[name] = target
    return renamed


def _exact_match(model, tensors: list[TensorLike]) -> LoadPrediction | None:
    """The common case, without running the loader: the checkpoint holds exactly the model's state.

    Then nothing is renamed, missing, unused or mismatched; only saved buffers are not parameters.
    (Running transformers' loader on a 400B checkpoint costs about 0.3 s.)
    """
    expected = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    if len(expected) != len(tensors) or any(t.name not in expected or t.shape not in (None, expected[t.name])
                                            for t in tensors):
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

    with quiet_transformers():
        weight_mapping = get_model_conversion_mapping(model)
        model_state = model.state_dict()  # before loading replaces parameters
        state_dict = _meta_state_dict(tensors, model_state, model.base_model_prefix)
        outcome = run_loader(model, state_dict, weight_mapping,
                             dtype=next(model.parameters(), torch.empty(0)).dtype)
    model_names = _model_names(model_state, model.base_model_prefix, list(state_dict), weight_mapping,
                               outcome.loader_unexpected)

    dropped = outcome.loader_unexpected - outcome.unexpected_keys
    buffers = {name for name, _ in model.named_buffers(remove_duplicate=False)}
    not_parameters = {name for name, target in model_names.items() if target in buffers or target in dropped}
    return LoadPrediction(
        missing_keys=sorted(outcome.missing_keys),
        unexpected_keys=sorted(outcome.unexpected_keys),
        mismatched_keys=sorted(
            (Mismatch(name, tuple(checkpoint), tuple(expected)) for name, checkpoint, expected in outcome.mismatched_keys),
            key=lambda m: m.name,
        ),
        not_parameters=not_parameters,
        model_names={name: target for name, target in model_names.items() if target != name},
    )
