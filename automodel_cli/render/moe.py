"""The active-parameters line of a mixture-of-experts model in `amx inspect`."""

from __future__ import annotations

from ..base.units import human_count
from ..knowledge.moe import MoeSummary


def active_parameters(moe: MoeSummary) -> str:
    """"4.19B per token (4 of 32 experts), 3.61B without the input embedding": both vendors' readings."""
    shared = f" + {moe.shared_experts} shared" if moe.shared_experts else ""
    text = f"{human_count(moe.active_parameters)} per token ({moe.experts_per_token} of {moe.experts} experts{shared})"
    if moe.active_parameters_without_input_embedding is not None:
        text += f", {human_count(moe.active_parameters_without_input_embedding)} without the input embedding"
    return text
