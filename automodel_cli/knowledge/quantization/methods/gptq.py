"""GPTQ (AutoGPTQ, GPTQModel, optimum): int32-packed `qweight`, `qzeros`, fp16 `scales`, `g_idx` per linear."""

from . import Method

METHOD = Method(("gptq",), parts=((r"\.(qweight|qzeros|scales|g_idx)$", ".weight"),))
