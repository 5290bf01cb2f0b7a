"""The towers of a multimodal model (vision or audio encoder, projector, language model) and their
parameters, from the model's own module structure: the first-level modules of its base model."""

from __future__ import annotations

from ..formats.tensors import TensorSpec

# A config holding one of these is multimodal: its model has a tower per modality.
TOWER_CONFIGS = ("vision_config", "audio_config", "visual", "speech_config", "image_config")
LANGUAGE_MODEL = "language_model"


def towers(raw: dict, tensors: list[TensorSpec]) -> dict[str, int] | None:
    """Tower -> parameters, in module order; the output head goes with the language model. None: one tower."""
    if not any(isinstance(raw.get(key), dict) for key in TOWER_CONFIGS):
        return None
    counted = [t for t in tensors if not t.buffer]
    nested = sum(t.name.startswith("model.") for t in counted) > len(counted) // 2
    found: dict[str, int] = {}
    for tensor in counted:
        parts = tensor.name.split(".")
        name = parts[1] if nested and parts[0] == "model" and len(parts) > 2 else parts[0]
        found[name] = found.get(name, 0) + tensor.numel
    heads = [name for name in found if not (nested and any(t.name.startswith(f"model.{name}.") for t in counted))]
    if LANGUAGE_MODEL in found:
        for head in heads:
            found[LANGUAGE_MODEL] += found.pop(head)
    return found if len(found) > 1 else None
