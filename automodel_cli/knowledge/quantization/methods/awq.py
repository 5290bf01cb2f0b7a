"""AWQ (AutoAWQ, llm-awq): `qweight`, `qzeros`, `scales` per linear, packed along the output dimension."""

from . import Method

METHOD = Method(("awq",), parts=((r"\.(qweight|qzeros|scales)$", ".weight"),))
