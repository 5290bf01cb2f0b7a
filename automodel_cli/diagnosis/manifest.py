"""The `amx check` manifest: the models a project loads, the heads it relies on, and its constraints.

It lives in `amx.toml` (top-level `[[models]]`) or in pyproject.toml (`[[tool.amx.models]]`), with an
optional `[defaults]` table of constraints for every model. tomllib gives line numbers only for syntax
errors, so `toml_lines.key_lines` finds the line of every table and key: each problem found after
parsing is reported as `file:line: key: problem`, exit 2.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..base.errors import (
    BadInputError,
    InvalidReferenceError,
    ManifestError,
    ModelNotFoundError,
)
from ..base.toml_lines import key_lines
from ..files.reference import parse_reference
from ..formats.gguf_checkpoint import is_gguf_file_name
from ..knowledge.auto_class_names import auto_class_candidates
from ..knowledge.head_index import HeadIndex

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MAX_MANIFEST_BYTES = 10 * 1024 * 1024


@dataclass
class ModelSpec:
    """One model and what the project relies on; a constraint left at its default is not checked."""

    model: str  # as written in the manifest or on the command line
    heads: list[str] = field(default_factory=list)
    revision: str | None = None
    max_parameters: int | None = None
    max_memory: int | None = None  # bytes
    max_active_parameters: int | None = None  # per token (a mixture of experts); a dense model: all of them
    max_kv_cache: tuple[int, int] | None = None  # (bytes, tokens): "8GiB@32768"
    dtype: str | None = None  # dtype of max_memory; default: the checkpoint's own
    native_head: str | None = None
    require_safetensors: bool = False
    allow_remote_code: bool = True
    min_transformers: str | None = None
    max_transformers: str | None = None
    subfolder: str | None = None  # the model's folder in the repository (a pipeline component)
    gguf_file: str | None = None  # a GGUF checkpoint of the model, as from_pretrained(..., gguf_file=...)
    structure: str | None = None  # "sha256:...": the structure_digest the project tested (amx inspect --json)
    variant: str | None = None  # the weights of from_pretrained(..., variant=...)
    loadable: bool = False  # from_pretrained's quantization checks must pass on this machine
    max_loaded_memory: int | None = None  # bytes the weights take once loaded here (dequantized, if so)
    reference: str | None = None  # what to resolve when it differs from `model` (a path next to the manifest)
    file: str | None = None
    line: int | None = None


@dataclass
class Manifest:
    label: str | None  # the file as named to the user; None for models given directly
    models: list[ModelSpec]
    imports: list[str] = field(default_factory=list)  # `import = [...]`: the project's modules to import first
    base: Path | None = None  # the manifest's folder, importable like the current directory
    import_line: int | None = None


# ---------------------------------------------------------------------------------------------- values

_PARAMETER_UNITS = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}
_BYTE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_AMOUNT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")


def _amount(value: Any, units: dict[str, int], examples: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and (match := _AMOUNT.fullmatch(value)) and match.group(2).lower() in units:
        try:
            result = int(Decimal(match.group(1)) * units[match.group(2).lower()])
        except InvalidOperation:
            result = 0
        if result > 0:
            return result
    raise ValueError(f"must be a positive number such as {examples}, found {_shown(value)}")


def _parameters(value: Any) -> int:
    return _amount(value, _PARAMETER_UNITS, '7000000000, "7B" or "110M"')


def _bytes(value: Any) -> int:
    return _amount(value, _BYTE_UNITS, '"16GB", "16GiB" or 17179869184')


def _kv_cache(value: Any) -> tuple[int, int]:
    """ "8GiB@32768": at most 8 GiB of KV cache for one sequence of 32,768 tokens."""
    if isinstance(value, str) and value.count("@") == 1:
        size, tokens = value.split("@")
        try:
            return _bytes(size.strip()), _amount(tokens.strip(), {"": 1, "k": 2**10}, "32768")
        except ValueError:
            pass
    raise ValueError(f'must be bytes@tokens such as "8GiB@32768", found {_shown(value)}')


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a non-empty string, found {_shown(value)}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, found {_shown(value)}")
    return value


def _version(value: Any) -> str:
    from packaging.version import InvalidVersion, Version

    if isinstance(value, str):
        try:
            Version(value)
            return value
        except InvalidVersion:
            pass
    raise ValueError(f'must be a version string such as "4.45" or "5", found {_shown(value)}')


def _gguf_file(value: Any) -> str:
    name = _string(value)
    if not is_gguf_file_name(name):
        raise ValueError(f"must be the name of a .gguf file inside the model, found {_shown(value)}")
    return name


_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _digest(value: Any) -> str:
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise ValueError("must be a structure_digest such as \"sha256:5749f2...\" (64 hex digits, from "
                         f"`amx inspect MODEL --json`), found {_shown(value)}")
    return value


# The dtypes `amx inspect` reports weight memory for (InspectReport.memory_bytes); default: as checkpointed.
MEMORY_DTYPES = ("float32", "bfloat16", "float16", "int8", "int4")


def _dtype(value: Any) -> str:
    if value not in MEMORY_DTYPES:
        raise ValueError(f"must be one of {', '.join(MEMORY_DTYPES)}, found {_shown(value)}")
    return value


def _heads(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f'must be a list of Auto class names such as ["AutoModelForCausalLM"], found {_shown(value)}')
    return list(value)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return json.dumps(value)
    return {list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


# key -> (ModelSpec attribute, parser raising ValueError with "must be ...")
FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "model": ("model", _string),
    "heads": ("heads", _heads),
    "revision": ("revision", _string),
    "subfolder": ("subfolder", _string),
    "gguf-file": ("gguf_file", _gguf_file),
    "variant": ("variant", _string),
    "max-parameters": ("max_parameters", _parameters),
    "max-memory": ("max_memory", _bytes),
    "max-active-parameters": ("max_active_parameters", _parameters),
    "max-kv-cache": ("max_kv_cache", _kv_cache),
    "dtype": ("dtype", _dtype),
    "native-head": ("native_head", _string),
    "require-safetensors": ("require_safetensors", _bool),
    "allow-remote-code": ("allow_remote_code", _bool),
    "min-transformers": ("min_transformers", _version),
    "max-transformers": ("max_transformers", _version),
    "structure": ("structure", _digest),
    "loadable": ("loadable", _bool),
    "max-loaded-memory": ("max_loaded_memory", _bytes),
}
DEFAULTABLE = [key for key in FIELDS
               if key not in ("model", "revision", "heads", "subfolder", "gguf-file", "variant", "structure")]


@dataclass
class Source:
    """Where entries come from, to name the place of a problem: `amx.toml:12: models[1].heads`."""

    label: str
    base: Path  # relative model paths are resolved against it
    file: str | None = None  # the manifest file, for annotations
    lines: dict[tuple, int] = field(default_factory=dict)
    prefix: tuple = ()  # ("tool", "amx") in pyproject.toml
    key_name: Callable[[tuple], str] | None = None  # how a key is called to the user (an option name on the CLI)

    def line(self, path: tuple) -> int | None:
        full = self.prefix + path
        while full:
            if full in self.lines:
                return self.lines[full]
            full = full[:-1]
        return None

    def key(self, path: tuple) -> str:
        if self.key_name is not None:
            return self.key_name(path)
        text = ".".join(self.prefix)
        for part in path:
            text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
        return text

    def error(self, path: tuple, problem: str, hint: str | None = None) -> ManifestError:
        line = self.line(path)
        where = f"{self.label}:{line}" if line else self.label
        key = self.key(path)
        return ManifestError(f"{where}: {key}: {problem}" if key else f"{where}: {problem}", hint, self.file, line)


# ------------------------------------------------------------------------------------------- loading


_TOOL_AMX = re.compile(r"""^\s*\[\[?\s*tool\s*\.\s*["']?amx["']?\s*[.\]]""", re.M)


def find_manifest(directory: Path) -> Path | None:
    """amx.toml in `directory`, else its pyproject.toml if that has a [tool.amx] table."""
    amx = directory / "amx.toml"
    if amx.is_file():
        return amx
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file() and _TOOL_AMX.search(pyproject.read_text("utf-8", "replace")):
        return pyproject
    return None


def load_manifest(path: Path, index: HeadIndex | None = None, label: str | None = None) -> Manifest:
    """Read and validate a manifest file; every problem is a ManifestError naming file, line and key."""
    label = label or str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            raise ManifestError(f"{label}: larger than {MAX_MANIFEST_BYTES:,} bytes: not a manifest", file=label)
        text = raw.decode("utf-8-sig")
    except OSError as error:
        raise ManifestError(f"{label}: cannot read the manifest: {error.strerror or error}",
                            hint="write an amx.toml (see `amx check --help`) or pass --manifest FILE") from None
    except UnicodeDecodeError as error:
        raise ManifestError(f"{label}: not UTF-8 text (byte {error.start})", file=label) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        at = re.search(r"\s*\(at (?:line (\d+), column \d+|end of document)\)$", message)
        line = int(at.group(1) or text.count("\n") or 1) if at else 1
        raise ManifestError(f"{label}:{line}: invalid TOML: {message[:at.start()] if at else message}",
                            file=label, line=line) from None
    except RecursionError:
        raise ManifestError(f"{label}: invalid TOML: nested too deeply", file=label) from None

    source = Source(label, path.resolve().parent, file=label, lines=key_lines(text))
    if "models" not in data and isinstance(data.get("tool"), dict) and "amx" in data["tool"]:
        source.prefix = ("tool", "amx")
        data = data["tool"]["amx"]
        if not isinstance(data, dict):
            raise source.error((), "[tool.amx] must be a table")
    elif path.name == "pyproject.toml":
        raise ManifestError(f"{label}: no [tool.amx] table", "add [[tool.amx.models]] entries, or use amx.toml", label)
    return Manifest(label, parse_manifest(data, source, index), parse_imports(data, source), source.base,
                    source.line(("import",)))


def parse_manifest(data: dict[str, Any], source: Source, index: HeadIndex | None = None) -> list[ModelSpec]:
    """Validate the manifest's top level, then every entry with the defaults merged in."""
    _reject_unknown(data, ("models", "defaults", "import"), (), source)
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise source.error(("defaults",), f"must be a table, found {_shown(defaults)}")
    _reject_unknown(defaults, DEFAULTABLE, ("defaults",), source)
    models = data.get("models")
    if not isinstance(models, list) or not models:
        raise source.error(("models",) if "models" in data else (), "no models listed",
                           hint='add an entry: [[models]] with model = "org/name" and heads = ["AutoModelFor..."]')
    return parse_entries(models, source, index, defaults)


_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def parse_imports(data: dict[str, Any], source: Source) -> list[str]:
    """`import = ["pkg.models"]`: modules whose Auto registrations the checks must see (amx imports them)."""
    modules = data.get("import", [])
    if not isinstance(modules, list) or not all(isinstance(m, str) and _MODULE_NAME.fullmatch(m) for m in modules):
        raise source.error(("import",), f"must be a list of module names such as [\"pkg.models\"], found "
                                        f"{_shown(modules)}")
    return list(modules)


def parse_entries(entries: Iterable[Any], source: Source, index: HeadIndex | None = None,
                  defaults: dict[str, Any] | None = None) -> list[ModelSpec]:
    """Validate model entries: tables with the manifest's keys, bare model references, or ModelSpecs as they are."""
    defaults_spec = _parse_table(defaults or {}, ("defaults",), source, index) if defaults else {}
    specs: list[ModelSpec] = []
    seen: dict[tuple, int] = {}
    for position, entry in enumerate(entries):
        path = ("models", position)
        spec = entry if isinstance(entry, ModelSpec) else _parse_entry(entry, path, source, index, defaults_spec)
        identity = _identity(spec, source, path)
        if identity in seen:
            raise source.error(path + ("model",), f"{spec.model!r} is listed twice (also models[{seen[identity]}])",
                               hint="merge the two entries into one")
        seen[identity] = position
        specs.append(spec)
    return specs


def _parse_entry(entry: Any, path: tuple, source: Source, index: HeadIndex | None,
                 defaults: dict[str, Any]) -> ModelSpec:
    if isinstance(entry, str):
        entry = {"model": entry}
    if not isinstance(entry, dict):
        raise source.error(path, f"must be a table with a model key, found {_shown(entry)}")
    _reject_unknown(entry, FIELDS, path, source)
    if "model" not in entry:
        raise source.error(path, "missing key 'model'", hint='name the model: model = "org/name" or a local path')
    values = {**defaults, **_parse_table(entry, path, source, index)}
    return ModelSpec(**values, reference=_next_to(source.base, values["model"]), file=source.file,
                     line=source.line(path))


def _reject_unknown(table: dict[str, Any], allowed: Iterable[str], path: tuple, source: Source) -> None:
    allowed = list(allowed)
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(allowed)}"
            raise source.error(path + (key,), "unknown key", hint=hint)


def _parse_table(table: dict[str, Any], path: tuple, source: Source, index: HeadIndex | None) -> dict[str, Any]:
    values = {}
    for key, value in table.items():
        attribute, parse = FIELDS[key]
        try:
            values[attribute] = parse(value)
        except ValueError as error:
            raise source.error(path + (key,), str(error)) from None
    if index is not None:
        for head in values.get("heads", []):
            _check_head_name(head, index, path + ("heads",), source)
        if "native_head" in values:
            _check_head_name(values["native_head"], index, path + ("native-head",), source)
    return values


def _check_head_name(head: str, index: HeadIndex, path: tuple, source: Source) -> None:
    """A full Auto class name or a short form every command takes ('causal-lm', 'ner'), checked for the model later."""
    try:
        auto_class_candidates(head, index.auto_classes)
        return
    except BadInputError:
        pass
    close = difflib.get_close_matches(head, index.auto_classes, n=1)
    raise source.error(path, f"{head!r} is not an Auto class of transformers {index.transformers_version}",
                       hint=f"did you mean {close[0]!r}?" if close else "`amx heads MODEL` lists the heads of a model")


def _next_to(base: Path, text: str) -> str | None:
    """A relative local path means a folder next to the manifest, not one in the current directory."""
    try:
        path = Path(text).expanduser()
        nearby = text.startswith(("./", "../")) or (base / path).exists()
    except (OSError, ValueError, RuntimeError):  # a name too long for the file system, an unknown ~user
        return None  # parse_reference names the problem
    return None if path.is_absolute() or not nearby else str(base / path)


def _identity(spec: ModelSpec, source: Source, path: tuple) -> tuple:
    """What makes two entries the same model: the same local folder, or the same Hub id and revision."""
    try:
        ref = parse_reference(spec.reference or spec.model, spec.revision, spec.subfolder)
    except InvalidReferenceError as error:
        key = ("revision" if spec.revision and "revision" in error.message else
               "subfolder" if spec.subfolder and "subfolder" in error.message else "model")
        raise source.error(path + (key,), error.message, error.hint) from None
    except ModelNotFoundError:  # a missing local model fails its check, it does not stop the others
        return ("missing", spec.reference or spec.model, spec.gguf_file)
    if ref.is_local:
        return ("local", str(ref.local_dir / ref.config_file), spec.gguf_file, spec.variant)
    return ("hub", ref.repo_id, ref.revision, ref.subfolder, spec.gguf_file, spec.variant)
