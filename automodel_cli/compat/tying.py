"""Tied weights on a model built on the meta device, as a loaded model has them.

transformers 5.0 skips tying (with weight initialisation) when a model is built on the meta device and
ties only after loading; later releases tie in `post_init` on any device. A model amx builds is tied here
the way `from_pretrained` leaves it, so parameter counts and load predictions do not depend on that.
"""

from __future__ import annotations


def _same(module, first: str, second: str) -> bool:
    try:
        return module.get_parameter(first) is module.get_parameter(second)
    except AttributeError:  # a tied buffer, or a name this module does not have
        return True


def tie_as_loaded(module) -> None:
    tied = getattr(module, "all_tied_weights_keys", None)
    if not tied or all(_same(module, target, source) for target, source in tied.items()):
        return
    module.tie_weights(recompute_mapping=False)
