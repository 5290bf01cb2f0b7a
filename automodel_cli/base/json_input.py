"""Parsing JSON written by strangers: one function, every failure one BadInputError line naming the file."""

from __future__ import annotations

import json
import re

from .errors import BadInputError

# Python objects take ~10x the bytes of their JSON text: a cap on values keeps memory bounded.
MAX_JSON_VALUES = 1_000_000  # counted as commas, before parsing
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> object:
    raise _NotJson(f"{name} is not a JSON number")


def json_type_name(value: object) -> str:
    return {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def parse_json_object(raw: bytes, where: str, what: str, *, strict: bool,
                      error: type[BadInputError] = BadInputError) -> dict:
    """Parse `raw` as a JSON object.

    strict=True reads as safetensors (serde_json) does: no byte-order mark, no NaN/Infinity, no
    unpaired surrogates. strict=False reads as transformers reads config.json: a BOM is skipped and
    NaN/Infinity are numbers.
    """
    data = parse_json(raw, where, what, strict=strict, error=error)
    if not isinstance(data, dict):
        raise error(f"{where}: {what} must be a JSON object, found {json_type_name(data)}")
    return data


def parse_json(raw: bytes, where: str, what: str, *, strict: bool,
               error: type[BadInputError] = BadInputError) -> object:
    """Parse `raw` as any JSON value (modules.json is a list), with the rules of `parse_json_object`."""
    if raw.count(b",") > MAX_JSON_VALUES:
        raise error(f"{where}: {what} holds more than {MAX_JSON_VALUES:,} values; amx refuses it")
    try:
        text = raw.decode("utf-8" if strict else "utf-8-sig")
        data = json.loads(text, parse_constant=_reject_constant) if strict else json.loads(text)
        if strict and _SURROGATE_ESCAPE.search(raw):  # rare: only then look for a \ud800 that pairs with nothing
            json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeDecodeError as problem:
        raise error(f"{where}: {what} is not UTF-8 (byte {problem.start})") from None
    except UnicodeEncodeError:
        raise error(f"{where}: {what} holds a string with an unpaired surrogate (not Unicode)") from None
    except json.JSONDecodeError as problem:
        raise error(f"{where}: {what} is not valid JSON: {problem.msg} at line {problem.lineno} "
                    f"column {problem.colno}") from None
    except RecursionError:
        raise error(f"{where}: {what} is JSON nested too deeply") from None
    except _NotJson as problem:
        raise error(f"{where}: {what} is not valid JSON: {problem}") from None
    except ValueError:  # Python refuses integer literals of more than 4,300 digits
        raise error(f"{where}: {what} holds an integer with thousands of digits") from None
    return data
