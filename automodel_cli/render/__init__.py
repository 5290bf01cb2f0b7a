"""Turning core results (dataclasses) into terminal tables or JSON; the format is chosen once per call.

Data goes to stdout; messages, warnings and progress go to stderr, so `amx ... --json | jq` always works.
Every string that came from a model's files is wrapped in `Text`, so rich markup or escape
sequences in it are shown literally, never interpreted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from .fit import fit_table

JSON_SCHEMA_VERSION = 1


# Characters a terminal acts on or shows as nothing: C0/C1 controls (ESC, the 8-bit CSI U+009B...), format
# characters (bidi overrides, zero-width space, BOM, tag characters), line and paragraph separators,
# lone surrogates. Model files may hold them anywhere; amx prints them escaped, in tables and in JSON.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NOT_PRINTABLE_ASCII = re.compile(r"[^\t\x20-\x7e]")
_NOT_ASCII = re.compile(r"[\x7f-\U0010ffff]")  # in json.dumps output, C0 characters are already escaped


def is_invisible(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES


def escape_invisible(text: str) -> str:
    """`text` with every invisible character written as a Python escape (\\x9b, \\u202e); the rest as is."""
    return _NOT_PRINTABLE_ASCII.sub(lambda m: _python_escape(m.group()) if is_invisible(m.group()) else m.group(),
                                    text)


def _python_escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _json_escape(char: str) -> str:
    """A JSON \\u escape (two, as a surrogate pair, beyond the BMP): the same string once parsed."""
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def dumps_json(payload: Any) -> str:
    """JSON for a terminal or a pipe: readable non-ASCII text, but every invisible character escaped.

    The only place amx writes JSON: still valid JSON, the same data once parsed.
    """
    text = json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False)
    return _NOT_ASCII.sub(lambda m: _json_escape(m.group()) if is_invisible(m.group()) else m.group(), text)


def safe_text(value: object, style: str = "") -> Text:
    """Literal text: no markup, invisible characters made visible as escapes."""
    return Text(escape_invisible(str(value)), style=style)


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN/Infinity from a config.json: JSON has no such numbers
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def reader_gone() -> NoReturn:
    """stdout's reader stopped reading (`amx heads X | head -1`): it has what it wanted, so exit 0 quietly,
    with stdout pointed at /dev/null so that the final flush cannot fail (Python's documented recipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


class _Console(Console):
    """rich's Console, but a closed pipe is not a failure (rich itself exits 1, the code for "no")."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        reader_gone()


def _width_given() -> bool:
    """COLUMNS names the width, as a terminal does (the docs' samples are rendered at 80 so)."""
    return os.environ.get("COLUMNS", "").isdigit()


def _stdout_console() -> Console:
    console = _Console(highlight=False)
    if not console.is_terminal and not _width_given():
        # Piped output is read by tools and people alike: as wide as it needs (COLUMNS sets a width).
        console = _Console(highlight=False, width=240)
    return console


class Output:
    """One per invocation: knows whether to print JSON or rich renderables, and where."""

    def __init__(self, json_mode: bool = False, stdout: Console | None = None, stderr: Console | None = None):
        self.json_mode = json_mode
        self.stdout = stdout or _stdout_console()
        self.stderr = stderr or _Console(stderr=True, highlight=False)

    def emit(
        self, kind: str, data: Any, human: Callable[[Any], Iterator[RenderableType]], *,
        page: bool = False, soft_wrap: bool = False,
    ) -> None:
        """Print `data` as JSON (with its schema name) or through the human renderer.

        `page`: output taller than the terminal goes through a pager (terminals only).
        `soft_wrap`: lines are neither wrapped nor cropped (code must come out exactly as written).
        Piped without COLUMNS, lines of text (doctor's findings, headers) are never wrapped either: only
        tables take a width.
        """
        if self.json_mode:
            payload = {"schema": f"amx.{kind}/{JSON_SCHEMA_VERSION}", **to_jsonable(data)}
            try:
                sys.stdout.write(dumps_json(payload) + "\n")
                sys.stdout.flush()
            except BrokenPipeError:
                reader_gone()
            return
        renderables = list(human(data))
        pager: contextlib.AbstractContextManager = contextlib.nullcontext()
        if page and self.stdout.is_terminal and self._taller_than_terminal(renderables):
            os.environ.setdefault("LESS", "-RFX")  # less: keep colours, quit at once if it fits after all
            pager = self.stdout.pager(styles=True)
        with pager:
            self.show(renderables, soft_wrap=soft_wrap)

    def show(self, renderables: Iterable[RenderableType], soft_wrap: bool = False) -> None:
        """Print human renderables now (each flushed as printed): `emit`'s way, for a part of a report shown
        before the rest is known. Never in JSON mode, which prints one document at the end."""
        for renderable in renderables:
            if isinstance(renderable, Table):
                renderable = fit_table(renderable, self.stdout)
            plain_line = not (self.stdout.is_terminal or _width_given()) and isinstance(renderable, (Text, str))
            self.stdout.print(renderable, soft_wrap=soft_wrap or plain_line)

    def _taller_than_terminal(self, renderables: list[RenderableType]) -> bool:
        return sum(len(self.stdout.render_lines(r, pad=False)) for r in renderables) > self.stdout.height

    def message(self, text: str, style: str = "yellow", prefix: str = "note") -> None:
        line = Text(f"{prefix}: ", style=f"bold {style}")
        line.append_text(safe_text(text))
        self.stderr.print(line, soft_wrap=True)

    def error(self, text: str, hint: str | None = None) -> None:
        self.message(text, style="red", prefix="error")
        if hint:
            self.message(hint, style="cyan", prefix="hint")

    @contextlib.contextmanager
    def status(self, text: str) -> Iterator[None]:
        """A spinner on stderr while slow work runs; silent when stderr is not a terminal."""
        if not self.stderr.is_terminal:
            yield
            return
        with self.stderr.status(safe_text(text)):
            yield
