"""Mixture-of-experts models: which parameters are routed experts, and how many a token uses.

The routed experts are found in the model's own structure, not in a list of model names: a tensor
under a module named `experts` that is either one expert's (`experts.3.w1.weight`, per-expert modules)
or all experts' at once (`experts.gate_up_proj` of shape [experts, ...], the fused 3-D layout of
transformers 5). Shared experts (`shared_expert`, `shared_experts`) are not routed: every token uses
them, like attention. A token uses `experts_per_token` of the `experts` routed ones, so the active
parameters are every other parameter plus that share of the routed experts' parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..formats.tensors import TensorSpec
from .config_summary import ConfigSummary


@dataclass
class MoeSummary:
    experts: int
    experts_per_token: int
    shared_experts: int
    expert_parameters: int  # in every routed expert of every layer
    active_parameters: int  # per token: every other parameter + experts_per_token/experts of the routed ones
    input_embedding_parameters: int | None  # the input embedding table, which some vendors leave out of "active"
    active_parameters_without_input_embedding: int | None


def _per_expert(parts: list[str], at: int, shape: tuple[int, ...], experts: int) -> bool:
    """`...experts.<index>.<...>`: one module per expert."""
    return at + 1 < len(parts) and parts[at + 1].isdigit() and int(parts[at + 1]) < experts


def _fused(parts: list[str], at: int, shape: tuple[int, ...], experts: int) -> bool:
    """`...experts.<name>` of shape [experts, ...]: every expert in one tensor (with its bias, [experts, n])."""
    return at + 1 < len(parts) and not parts[at + 1].isdigit() and len(shape) >= 2 and shape[0] == experts


# The layouts of routed-expert tensors; a new layout is a new recogniser here.
LAYOUTS = (_per_expert, _fused)


def is_routed_expert(tensor: TensorSpec, experts: int) -> bool:
    parts = tensor.name.split(".")
    return any(part == "experts" and any(layout(parts, at, tensor.shape, experts) for layout in LAYOUTS)
               for at, part in enumerate(parts))


def _shared(tensors: Iterable[TensorSpec]) -> bool:
    return any(part.startswith("shared_expert") for t in tensors for part in t.name.split("."))


def moe_summary(summary: ConfigSummary, tensors: list[TensorSpec], total: int,
                embedding: int | None) -> MoeSummary | None:
    """The experts of a model whose config routes tokens and whose structure has routed-expert tensors."""
    experts, per_token = summary.experts, summary.experts_per_token
    if not experts or not per_token or per_token > experts:
        return None
    routed = sum(t.numel for t in tensors if not t.buffer and is_routed_expert(t, experts))
    if not routed:
        return None
    shared = summary.shared_experts or (1 if _shared(tensors) else 0)
    active = total - routed + routed * per_token // experts
    table = summary.vocab_size * summary.hidden_size if summary.vocab_size and summary.hidden_size else None
    input_embedding = min(embedding, table) if embedding is not None and table is not None else None
    return MoeSummary(experts, per_token, shared, routed, active, input_embedding,
                      active - input_embedding if input_embedding is not None else None)
