"""transformers' weight-loading steps, called the way the installed release's `from_pretrained` calls them.

5.0 passes the tensor-parallel and dtype plans to `convert_and_load_state_dict_in_model` and gets the
key sets back as a tuple; later releases carry everything in `LoadStateDictConfig` / `LoadStateDictInfo`
and update it in place. The steps and their order are the same: load, mark tied weights as initialised,
tie, drop the keys the model's ignore rules name.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass


@dataclass
class LoaderOutcome:
    missing_keys: set[str]
    unexpected_keys: set[str]
    mismatched_keys: set[tuple]  # (model name, checkpoint shape, model shape)
    loader_unexpected: set[str]  # unexpected before the ignore rules: what the loader itself did not place


def _parameters(function) -> set[str]:
    return set(inspect.signature(function).parameters)


def run_loader(model, state_dict: dict, weight_mapping: list, dtype) -> LoaderOutcome:
    """Load `state_dict` (meta tensors) into `model` (built on the meta device) with transformers' own code."""
    from transformers.core_model_loading import convert_and_load_state_dict_in_model
    from transformers.modeling_utils import LoadStateDictConfig

    load_config = LoadStateDictConfig(device_map={"": "meta"}, weight_mapping=weight_mapping, dtype=dtype)
    info = None
    if "tp_plan" in _parameters(convert_and_load_state_dict_in_model):  # 5.0
        missing, unexpected, mismatched, *_ = convert_and_load_state_dict_in_model(
            model=model, state_dict=state_dict, load_config=load_config,
            tp_plan=getattr(model, "_tp_plan", None), dtype_plan=getattr(model, "dtype_plan", None),
        )
    else:
        info, _ = convert_and_load_state_dict_in_model(model=model, state_dict=state_dict, load_config=load_config)
        missing, unexpected, mismatched = info.missing_keys, info.unexpected_keys, info.mismatched_keys
    loader_unexpected = set(unexpected)

    if "loading_info" in _parameters(model.mark_tied_weights_as_initialized):
        model.mark_tied_weights_as_initialized(info)
    else:
        model.mark_tied_weights_as_initialized()
    model.tie_weights(missing_keys=missing, recompute_mapping=False)
    if "loading_info" in _parameters(model._adjust_missing_and_unexpected_keys):
        model._adjust_missing_and_unexpected_keys(info)
        missing, unexpected = info.missing_keys, info.unexpected_keys
    else:
        missing, unexpected = model._adjust_missing_and_unexpected_keys(missing, unexpected)
    return LoaderOutcome(set(missing), set(unexpected), set(mismatched), loader_unexpected)
