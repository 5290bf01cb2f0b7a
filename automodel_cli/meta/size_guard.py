"""Refusing configs too large to build: a model bigger than any real one would hang the meta build or
exhaust memory (a llama config with num_hidden_layers=10**9 never finishes).

Two checks, both naming the field responsible:
- before anything is built (even before transformers parses the config, whose classes expand
  per-layer lists), the repetition counts of config.json (layers, blocks, stages, experts) against
  caps above every published model's;
- while building, every module and parameter registered, against the most any real model has
  (switch-c-2048 builds 144,000 modules; the largest published models have about 2 trillion
  parameters), tensors allocated off the meta device (some constructors escape it), and the time
  and memory the build takes (some constructors loop in Python over a size: videomae's sinusoid
  table), so that `amx` ends within its usual bounds whatever the sizes are.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from ..base.errors import ConfigTooLargeError

# Largest real values: ~200 layers (dense decoders); 16,384 experts (Doge's tiny product-key experts), up
# to 2**20 in "mixture of a million experts" designs.
MAX_REPEATS = {"layers": 1_000, "experts": 2**20}
_REPEAT_FIELD = re.compile(r"(?:^|_)(?:(?P<layers>layers?|depths?|blocks?|stages?)|(?P<experts>experts))$")
_NOT_A_COUNT = re.compile(r"select|index|idx|_id$|ids$|every|freq|step|interval|start|skip|dim|size|channel")
MAX_MODULES = 200_000
MAX_PARAMETERS = 10**13
BUILD_SECONDS = 5.0  # amx must answer within 10 s, Python and torch start-up included (a 405B llama: 0.1 s)
# Real memory a meta build may allocate: some constructors escape the meta device (`torch.Tensor(n)`,
# `device="cpu"`), e.g. wav2vec2's masked_spec_embed of hidden_size floats; real models need kilobytes.
MAX_REAL_BYTES = 256 * 2**20
SUSPICIOUS_RATIO = 64  # a field this many times its default: real allocations are watched


def _counts(raw: dict, prefix: str = "") -> Iterator[tuple[str, str, int]]:
    """(path, kind, value) of every repetition count in a raw config, nested configs included."""
    for key, value in raw.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _counts(value, f"{path}.")
            continue
        match = _REPEAT_FIELD.search(key)
        if not match or _NOT_A_COUNT.search(key):
            continue
        kind = match.lastgroup or "layers"
        if isinstance(value, int) and not isinstance(value, bool):
            yield path, kind, value
        elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            yield path, kind, max(value)  # per stage (depths); a list of layer indexes is not a count


def check_counts(raw: dict, where: str) -> None:
    """Refuse a config.json whose layers, blocks or experts exceed every real model's, before it is parsed."""
    for path, kind, value in _counts(raw):
        if value > MAX_REPEATS[kind]:
            raise ConfigTooLargeError(
                f"{where}: {path}={value:,} is more {kind} than any real model has (amx builds at most "
                f"{MAX_REPEATS[kind]:,}); refusing to build it",
                hint="check the config's sizes; `amx heads` still reads it without building",
            )


def _integers(raw: Any, default: Any, prefix: str = "") -> Iterator[tuple[str, int, int]]:
    """(path, value, default) of the integer fields of a raw config, beside the config class's defaults."""
    if not isinstance(raw, dict):
        return
    for key, value in raw.items():
        known = default.get(key) if isinstance(default, dict) else getattr(default, key, None)
        if isinstance(value, dict):
            yield from _integers(value, known, f"{prefix}{key}.")
        elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            base = max(known) if isinstance(known, list) and known and all(isinstance(v, int) for v in known) else 1
            yield f"{prefix}{key}", max(value), base
        elif isinstance(value, int) and not isinstance(value, bool):
            yield f"{prefix}{key}", value, known if isinstance(known, int) and not isinstance(known, bool) else 1


def largest_field(raw: dict, default_config: Any) -> tuple[str, float]:
    """The field furthest above its default (`text_config.hidden_size=1,000,000`, or '') and how many
    times its default it is."""
    best, best_ratio = "", 1.0
    for path, value, default in _integers(raw, default_config):
        ratio = value / max(default, 1)
        if ratio > best_ratio:
            best, best_ratio = f"{path}={value:,}", ratio
    return best, best_ratio


class BuildBudget:
    """Counts the modules and parameters a build registers; raises as soon as one is beyond real models."""

    def __init__(self, what: str, blame: str):
        self.what, self.blame = what, blame
        self.modules = self.parameters = self.real_bytes = 0

    def refuse(self, problem: str) -> None:
        field = f" ({self.blame} is the field furthest above its default)" if self.blame else ""
        raise ConfigTooLargeError(f"{self.what} {problem}{field}; refusing to build it",
                                  hint="check the config's sizes; `amx heads` still reads it without building")

    def on_module(self, *_: Any) -> None:
        self.modules += 1
        if self.modules > MAX_MODULES:
            self.refuse(f"would have more than {MAX_MODULES:,} modules, more than any real model")

    def on_real_allocation(self, nbytes: int) -> None:
        self.real_bytes += nbytes
        if self.real_bytes > MAX_REAL_BYTES:
            self.refuse(f"would allocate more than {MAX_REAL_BYTES // 2**20} MiB of real memory while building "
                         "on the meta device")

    def on_parameter(self, _module: Any, _name: str, parameter: Any) -> None:
        if parameter is None:
            return
        self.parameters += parameter.numel()
        if self.parameters > MAX_PARAMETERS:
            self.refuse(f"would have more than {MAX_PARAMETERS:,} parameters, more than any real model")


@contextlib.contextmanager
def bounded_build(what: str, raw: dict, default_config: Any) -> Iterator[BuildBudget]:
    """Watch every module and parameter registered in this block (torch's global registration hooks), the
    time and memory it takes (a watchdog thread: pure Python loops register nothing) and, when a field
    of the raw config is far above its default, every real allocation (that watch slows a build
    several times, so plausible configs go without it)."""
    from torch.nn.modules import module as torch_module

    blame, ratio = largest_field(raw, default_config)
    budget = BuildBudget(what, blame)
    handles = [torch_module.register_module_module_registration_hook(budget.on_module),
               torch_module.register_module_parameter_registration_hook(budget.on_parameter)]
    watchdog = _Watchdog()
    try:
        with watchdog, _real_allocations(budget) if ratio >= SUSPICIOUS_RATIO else contextlib.nullcontext():
            yield budget
    except _OverBudget:
        budget.refuse(f"takes more than {BUILD_SECONDS:.0f} s to build on the meta device"
                       if watchdog.reason == "time" else
                       f"takes more than {MAX_REAL_BYTES // 2**20} MiB of memory to build on the meta device")
    finally:
        for handle in handles:
            handle.remove()


class _OverBudget(Exception):  # noqa: N818 - raised asynchronously in the building thread, then translated
    """Raised in the building thread by the watchdog."""


class _Watchdog:
    """A thread that raises _OverBudget in the building thread (at its next Python instruction) once the
    build has run BUILD_SECONDS or grown the process's peak memory by MAX_REAL_BYTES, and again every
    tick until the build is left, in case the code being run catches it."""

    TICK = 0.02

    def __init__(self) -> None:
        self.reason = ""
        self._target = threading.get_ident()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="amx-build-watchdog", daemon=True)

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        with self._lock:
            self._done.set()
        self._thread.join()
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._target), None)  # one fired twice

    def _watch(self) -> None:
        deadline = time.monotonic() + BUILD_SECONDS
        start_peak = _peak_bytes()
        while not self._done.wait(self.TICK):
            reason = "time" if time.monotonic() > deadline else "memory" if (
                _peak_bytes() - start_peak > MAX_REAL_BYTES) else ""
            if reason:
                with self._lock:
                    if self._done.is_set():
                        return
                    self.reason = reason
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._target),
                                                               ctypes.py_object(_OverBudget))


def _peak_bytes() -> int:
    try:
        import resource
    except ImportError:  # Windows: the time budget alone applies
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def _real_allocations(budget: BuildBudget):
    """A torch dispatch mode that charges every tensor allocated off the meta device to `budget` before
    it is allocated (a Python function mode such as `torch.device("meta")` does not see all of them)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class ChargeRealAllocations(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            device = kwargs.get("device")
            if device is not None and torch.device(device).type != "meta":
                elements = _elements(func, args)
                if elements:
                    budget.on_real_allocation(elements * (kwargs.get("dtype") or torch.float32).itemsize)
            return func(*args, **kwargs)

    return ChargeRealAllocations()


def _elements(func: Any, args: tuple) -> int:
    """Elements a factory call creates: from its size list (empty, zeros, full, rand...) or arange's range."""
    if args and isinstance(args[0], (list, tuple)) and all(isinstance(n, int) for n in args[0]):
        return math.prod(args[0])
    if "arange" in str(func) and args and all(isinstance(n, (int, float)) for n in args):
        start, end, step = (0, args[0], 1) if len(args) == 1 else (*args[:2], args[2] if len(args) > 2 else 1)
        return max(0, math.ceil((end - start) / step)) if step else 0
    return 0
