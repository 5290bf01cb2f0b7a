"""transformers' weight-loading steps, called the way the installed release's `from_pretrained` calls them.

The steps and their order are the same in every 5.x release: load, mark tied weights as initialised,
tie, drop the keys the model's ignore rules name. Their spelling moved: 5.0 passes the tensor-parallel
and dtype plans to `convert_and_load_state_dict_in_model` and gets the key sets back as a tuple; 5.3
passes the tensor-parallel plan only and gets a `LoadStateDictInfo` that the later steps update in
place; newer releases keep every plan in `LoadStateDictConfig`. Each step is called with the arguments
its installed signature takes.
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


def _takes(function, name: str) -> bool:
    return name in inspect.signature(function).parameters


def _convert_and_load(model, state_dict: dict, load_config):
    """(loading info or None, missing, unexpected, mismatched) from the loader."""
    from transformers.core_model_loading import (
        convert_and_load_state_dict_in_model as load,
    )

    plans = {"tp_plan": getattr(model, "_tp_plan", None), "dtype_plan": getattr(model, "dtype_plan", None)}
    result = load(model=model, state_dict=state_dict, load_config=load_config,
                  **{name: plan for name, plan in plans.items() if _takes(load, name)})
    if hasattr(result[0], "missing_keys"):  # (LoadStateDictInfo, disk offload index)
        info = result[0]
        return info, info.missing_keys, info.unexpected_keys, info.mismatched_keys
    missing, unexpected, mismatched, *_ = result  # 5.0: (missing, unexpected, mismatched, offload, errors)
    return None, missing, unexpected, mismatched


def run_loader(model, state_dict: dict, weight_mapping: list, dtype) -> LoaderOutcome:
    """Load `state_dict` (meta tensors) into `model` (built on the meta device) with transformers' own code."""
    from transformers.modeling_utils import LoadStateDictConfig

    load_config = LoadStateDictConfig(device_map={"": "meta"}, weight_mapping=weight_mapping, dtype=dtype)
    info, missing, unexpected, mismatched = _convert_and_load(model, state_dict, load_config)
    loader_unexpected = set(unexpected)

    if _takes(model.mark_tied_weights_as_initialized, "loading_info"):
        model.mark_tied_weights_as_initialized(info)
    else:
        model.mark_tied_weights_as_initialized()
    model.tie_weights(missing_keys=missing, recompute_mapping=False)
    if _takes(model._adjust_missing_and_unexpected_keys, "loading_info"):
        model._adjust_missing_and_unexpected_keys(info)
        missing, unexpected = info.missing_keys, info.unexpected_keys
    else:
        missing, unexpected = model._adjust_missing_and_unexpected_keys(missing, unexpected)
    return LoaderOutcome(set(missing), set(unexpected), set(mismatched), loader_unexpected)
