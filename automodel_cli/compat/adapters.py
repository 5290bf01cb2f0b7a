"""Which of a PEFT adapter's saved tensors `AutoModelForXxx.from_pretrained(adapter)` loads, release by release.

peft saves every tensor under `base_model.model.` + the transformers model's name. The adapter loader of
transformers changed during 5.x:
- up to 5.12 it renames with its own table, which strips that prefix only before `model.` (a Llama's
  `model.layers...`): the LoRA weights of a BERT adapter (`base_model.model.bert...`) and any classifier
  are dropped as unexpected keys, and the model runs as its base;
- from 5.13 it uses peft's table, which strips the prefix from every name;
- from 5.18 it also maps the weights saved for `modules_to_save` onto peft's copy of the module, so a
  classifier trained with the adapter is restored instead of newly initialised.
Asked of the installed code (the names its `load_adapter` uses), not of its version number; the answer is
recorded in the head index when that is built, so `amx heads` still imports nothing.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

SAVED_PREFIX = "base_model.model."
# What transformers' own table (up to 5.12) strips: peft's prefix before a decoder's `model.` submodule.
OWN_TABLE_PREFIX = SAVED_PREFIX + "model."


@dataclass(frozen=True)
class AdapterLoading:
    strips_every_prefix: bool  # peft's renaming table: every `base_model.model.` name loads
    restores_modules_to_save: bool  # weights saved for modules_to_save are restored

    def loads(self, saved_name: str, saved_in_full: bool) -> bool:
        """Whether the tensor saved as `saved_name` reaches the model (`saved_in_full`: a modules_to_save weight)."""
        if saved_in_full:
            return self.restores_modules_to_save
        return self.strips_every_prefix or saved_name.startswith(OWN_TABLE_PREFIX)


def installed_adapter_loading() -> AdapterLoading:
    """What the installed transformers' adapter loader does: the names its `load_adapter` uses, from its
    source compiled, never run (importing transformers' peft integration needs torch, an extra of amx)."""
    names = set(_code_of(_code_of(_integration_code(), "PeftAdapterMixin"), "load_adapter").co_names)
    return AdapterLoading(
        strips_every_prefix="peft.utils.transformers_weight_conversion" in names,
        restores_modules_to_save="adapter_state_dict_load_map" in names,
    )


def _integration_code():
    origin = importlib.util.find_spec("transformers.integrations.peft").origin
    return compile(Path(origin).read_text(encoding="utf-8"), origin, "exec", dont_inherit=True)  # not our __future__


def _code_of(code, name: str):
    """The code object of the class or function `name` defined directly in `code`."""
    return next(const for const in code.co_consts if getattr(const, "co_name", None) == name)
