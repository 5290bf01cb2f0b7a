"""`--device`: the quantizer's checks asked for another machine. While they run, torch's and
transformers' hardware questions (is CUDA there, which compute capability, XPU, MPS, the current
accelerator) answer for the named device; the packages stay those installed here."""

from __future__ import annotations

import re
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from ...base.errors import BadInputError

ASSUMED_CAPABILITY = (9, 0)  # `cuda` without one: a Hopper GPU, said so in the output
_DEVICE = re.compile(r"(cpu|cuda|xpu|mps)(?::(\d{1,2})\.(\d))?")
# transformers' own availability checks of the hardware, by the device that makes them true
_HARDWARE_CHECKS = {"is_torch_cuda_available": "cuda", "is_torch_xpu_available": "xpu",
                    "is_torch_mps_available": "mps", "is_torch_npu_available": None, "is_torch_hpu_available": None}


@dataclass(frozen=True)
class Device:
    type: str  # cpu | cuda | xpu | mps
    capability: tuple[int, int] | None = None  # CUDA compute capability

    def __str__(self) -> str:
        return f"cuda:{self.capability[0]}.{self.capability[1]}" if self.capability else self.type

    @property
    def device_map(self) -> dict | None:
        """What from_pretrained(..., device_map=<device>) hands the quantizer; None (no device_map) on a CPU."""
        return None if self.type == "cpu" else {"": "cuda:0" if self.type == "cuda" else self.type}


def parse_device(text: str) -> Device:
    match = _DEVICE.fullmatch(text.strip().lower())
    if match is None or (match[2] is not None and match[1] != "cuda"):
        raise BadInputError(f"unknown --device {text!r}", hint="use cpu, cuda, cuda:MAJOR.MINOR (e.g. cuda:8.9), "
                                                                "xpu or mps")
    if match[1] == "cuda":
        return Device("cuda", (int(match[2]), int(match[3])) if match[2] else ASSUMED_CAPABILITY)
    return Device(match[1])


def hardware_answer(name: str, device: Device) -> bool | None:
    """How one of transformers' `is_torch_<hardware>_available` checks answers on `device`; None: not one."""
    if name not in _HARDWARE_CHECKS:
        return None
    return _HARDWARE_CHECKS[name] == device.type


@contextmanager
def simulated(device: Device | None):
    """torch's hardware questions answered for `device` while the quantizer's checks run (nothing when None)."""
    if device is None:
        yield
        return
    from unittest import mock  # pulls asyncio in: only when a device is simulated

    import torch

    cuda, xpu, mps = (device.type == kind for kind in ("cuda", "xpu", "mps"))
    accelerator = None if device.type == "cpu" else torch.device(device.type)
    with ExitStack() as stack:
        for target, value in ((torch.cuda, {"is_available": lambda: cuda,
                                            "get_device_capability": lambda *a, **k: device.capability,
                                            "device_count": lambda: int(cuda), "current_device": lambda: 0}),
                              (torch.xpu, {"is_available": lambda: xpu, "device_count": lambda: int(xpu)}),
                              (torch.backends.mps, {"is_available": lambda: mps}),
                              (torch.accelerator, {"current_accelerator": lambda *a, **k: accelerator})):
            for name, replacement in value.items():
                stack.enter_context(mock.patch.object(target, name, replacement))
        yield
