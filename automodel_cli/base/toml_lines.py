"""Where each key of a TOML document is: tomllib gives line numbers only for syntax errors.

`key_lines` scans the text for table headers and `key = value` lines, skipping the continuation lines of
multi-line arrays and strings, so a problem found after parsing can name its line.
"""

from __future__ import annotations

import json
import re

_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"\s*(\[\[?)\s*({_DOTTED_KEY})\s*\]")
_KEY_VALUE = re.compile(rf"\s*({_DOTTED_KEY})\s*=")


def _key_parts(dotted: str) -> tuple[str, ...]:
    parts = []
    for match in re.finditer(_KEY_PART, dotted):
        part = match.group()
        if part.startswith('"'):
            try:
                part = json.loads(part)
            except ValueError:
                part = part[1:-1]
        elif part.startswith("'"):
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def _scan_value(text: str, depth: int, open_string: str | None) -> tuple[int, str | None]:
    """Bracket depth and unterminated multi-line string after `text`, so continuation lines are skipped."""
    i = 0
    while i < len(text):
        if open_string:
            end = text.find(open_string, i)
            if end < 0:
                return depth, open_string
            i, open_string = end + 3, None
        elif text.startswith(('"""', "'''"), i):
            open_string, i = text[i:i + 3], i + 3
        elif text[i] in "\"'":
            quote, i = text[i], i + 1
            while i < len(text) and text[i] != quote:
                i += 2 if quote == '"' and text[i] == "\\" else 1
            i += 1
        elif text[i] == "#":
            break
        else:
            depth += (text[i] in "[{") - (text[i] in "]}")
            i += 1
    return depth, open_string


def key_lines(text: str) -> dict[tuple, int]:
    """Line of every table header and key, by path: ("models", 1, "heads") is the second entry's heads."""
    lines: dict[tuple, int] = {}
    arrays: dict[tuple, int] = {}  # array-of-tables name -> index of its last element
    table: tuple = ()
    depth, open_string = 0, None
    for number, line in enumerate(text.splitlines(), 1):
        if depth > 0 or open_string:
            depth, open_string = _scan_value(line, depth, open_string)
        elif header := _HEADER.match(line):
            names = _key_parts(header.group(2))
            if header.group(1) == "[[":
                arrays[names] = arrays.get(names, -1) + 1
            table = ()
            for i, name in enumerate(names):
                table += (name,) if names[:i + 1] not in arrays else (name, arrays[names[:i + 1]])
            lines.setdefault(table, number)
        elif pair := _KEY_VALUE.match(line):
            lines.setdefault(table + _key_parts(pair.group(1)), number)
            depth, open_string = _scan_value(line[pair.end():], 0, None)
    return lines
