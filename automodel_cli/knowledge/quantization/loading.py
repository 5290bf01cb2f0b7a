"""What `from_pretrained` does with a quantized checkpoint on this machine, asked of the installed
transformers itself: its `AutoHfQuantizer` picks the quantizer and runs `validate_environment`, exactly as
a load does before reading any weight. The outcome is the quantizer's: it raises (the load fails with
its reason), sets `dequantize` (no kernels or GPU here: the weights are unpacked to a float dtype) or
keeps the weights quantized. Which packages were missing is seen, not guessed: the quantizer module's
own `is_<package>_available` checks are watched while it runs. What the quantizer imports to prepare the
model (`_process_model_before_weight_loading`, which every load runs next) is imported too: in some
releases that import is what fails (5.0's FP8 integration needs triton, even to dequantize).
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import inspect
import re
import sys
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass, field

from ...base.errors import TorchMissingError
from ...compat.quiet import quiet_transformers
from ...compat.torch_extra import torch_installed
from .config import QuantizationSpec
from .machine import Device, hardware_answer, simulated
from .supported import supported_methods

QUANTIZED, DEQUANTIZED, FAILS = "quantized", "dequantized", "fails"
_AVAILABILITY = re.compile(r"is_(\w+)_available$")
_NOT_PACKAGES = re.compile(r"torch(_\w+)?$")  # hardware and torch itself, not something to pip install
_PIP_REQUIREMENT = re.compile(r"pip install (?:-U |--upgrade )?['\"`]?([A-Za-z0-9_.\-]+(?:[<>=!~]=?[\w.]+)?)")


@dataclass
class LoadOutcome:
    load: str  # quantized | dequantized | fails
    quantizer: str | None  # the class transformers picks, e.g. "FineGrainedFP8HfQuantizer"
    reason: str = ""  # transformers' own words: its exception, or why it dequantizes
    missing_packages: list[str] = field(default_factory=list)  # pip requirements, e.g. "bitsandbytes>=0.46.1"
    loaded_dtype: str | None = None  # torch dtype name of the loaded floating weights
    device: str | None = None  # the machine asked about (--device); None: this one


def _unknown_method(method: str) -> LoadOutcome:
    supported = ", ".join(supported_methods())
    return LoadOutcome(FAILS, None, f"quant_method {method!r} is unknown to the installed transformers, which "
                                    f"skips the quantization and loads the packed tensors as plain weights "
                                    f"(supported: {supported})")


@contextmanager
def _watching_availability(*modules, device: Device | None = None):
    """Record every `is_<package>_available` call the modules make, and what it answered; with `device`,
    transformers' hardware checks answer for it."""
    calls: list[tuple[str, tuple, bool]] = []
    originals = [(module, name, value) for module in modules for name, value in vars(module).items()
                 if _AVAILABILITY.match(name) and callable(value)]

    def watched(name, check):
        def call(*args, **kwargs):
            simulated_answer = hardware_answer(name, device) if device is not None else None
            answer = check(*args, **kwargs) if simulated_answer is None else simulated_answer
            calls.append((name, args, bool(answer)))
            return answer
        return call

    for module, name, check in originals:
        setattr(module, name, watched(name, check))
    try:
        yield calls
    finally:
        for module, name, check in originals:
            setattr(module, name, check)


def _missing(calls: list[tuple[str, tuple, bool]], error: Exception) -> list[str]:
    """The packages whose availability check said no, as pip requirements (the version the message asks
    for), and the package a failed import names."""
    message = str(error)
    asked = {re.split(r"[<>=!~]", requirement)[0].lower().replace("_", "-"): requirement
             for requirement in _PIP_REQUIREMENT.findall(message)}
    missing = []
    for name, args, answer in calls:
        package = _AVAILABILITY.match(name)[1]
        if answer or _NOT_PACKAGES.match(package):
            continue
        package = package.replace("_", "-")
        requirement = asked.get(package) or (f"{package}>={args[0]}" if args and isinstance(args[0], str) else package)
        if requirement not in missing:
            missing.append(requirement)
    imported = error.name.partition(".")[0] if isinstance(error, ModuleNotFoundError) and error.name else None
    if imported and imported != "transformers" and imported.replace("_", "-") not in missing:
        missing.append(imported.replace("_", "-"))
    return missing


def _import_what_preparing_imports(quantizer_class: type) -> None:
    """Import what the quantizer's `_process_model_before_weight_loading` imports (raises as the load would)."""
    prepare = getattr(quantizer_class, "_process_model_before_weight_loading", None)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(prepare)))
    except (TypeError, OSError, SyntaxError):  # no source to read: nothing more is checked
        return
    package = sys.modules[quantizer_class.__module__].__package__
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.import_module(importlib.util.resolve_name("." * node.level + node.module, package))
            for alias in node.names:
                getattr(module, alias.name)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def loading_outcome(spec: QuantizationSpec, dtype_name: str | None, device: Device | None = None) -> LoadOutcome:
    """Run the installed quantizer's checks for a pre-quantized checkpoint (imports transformers and torch).

    `dtype_name` is the dtype from_pretrained picks before the quantizer has its say (config.json's dtype,
    else the checkpoint's first floating tensor's), as a torch name. With `device`, the checks answer for
    that machine (`machine.py`), with the packages installed here.
    """
    if spec.method not in supported_methods():
        return _unknown_method(spec.method)
    if not torch_installed():
        raise TorchMissingError("running the installed transformers' quantizer checks")
    import torch
    from transformers.quantizers.auto import AUTO_QUANTIZATION_CONFIG_MAPPING, AUTO_QUANTIZER_MAPPING, AutoHfQuantizer

    quantizer_class = AUTO_QUANTIZER_MAPPING.get(spec.method)
    name = quantizer_class.__name__ if quantizer_class is not None else None
    # The config class checks some packages when built, the quantizer the rest.
    modules = {sys.modules[cls.__module__] for cls in (quantizer_class, AUTO_QUANTIZATION_CONFIG_MAPPING[spec.method])
               if cls is not None}
    calls: list = []  # filled as the checks run, kept when they raise
    try:
        with quiet_transformers(), simulated(device), _watching_availability(*modules, device=device) as calls:
            quantizer = AutoHfQuantizer.from_config(copy.deepcopy(spec.raw), pre_quantized=True)
            quantizer.validate_environment(device_map=device.device_map if device else None, weights_only=True)
            _import_what_preparing_imports(quantizer_class)
    except Exception as error:  # noqa: BLE001 - any exception here is what from_pretrained raises
        return LoadOutcome(FAILS, name, _first_line(error), _missing(calls, error))
    dtype = getattr(torch, dtype_name or "", None)
    if not isinstance(dtype, torch.dtype):
        dtype = torch.get_default_dtype()
    loaded = str(quantizer.update_dtype(dtype)).removeprefix("torch.")
    if getattr(quantizer.quantization_config, "dequantize", False):
        where = f"on {device}" if device is not None else "on this machine"
        return LoadOutcome(DEQUANTIZED, name, f"{name} dequantizes {where}: no kernel or GPU it needs "
                                              f"is available", loaded_dtype=loaded)
    return LoadOutcome(QUANTIZED, name, loaded_dtype=loaded)
