"""Model references: what the user typed, validated, and the files it points at.

A reference is a local directory holding config.json (or a config.json file itself), a Hugging Face
cache folder (`.../hub/models--org--name`, read at `--revision` or main), or a Hub id
(`gpt2`, `org/name`, optionally `org/name@revision`). Hub ids are resolved through `hub.py`, which
also covers models that are only in the Hugging Face cache.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ..base.errors import HubUnreachableError, InvalidReferenceError, ModelNotFoundError
from . import hub
from .config_reader import ModelConfig, read_config

MAX_REFERENCE_LENGTH = 1024
# huggingface_hub's own rule: word characters, '-', '_' and '.', at most 96 per part, no '--' or '..'.
_HUB_PART = r"[\w\-.]{1,96}"
_HUB_ID = re.compile(rf"(?:{_HUB_PART}/)?{_HUB_PART}", re.ASCII)
_REVISION = re.compile(r"[\w\-./]{1,255}", re.ASCII)
# C0/C1 controls (newline, NUL, ESC...), format characters (bidi overrides, zero-width) and line or
# paragraph separators: they break the one-line messages or make a reference display as another.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp"})
# Files that make a directory a model repository of some shape (repository.py decides which).
REPOSITORY_MARKERS = ("config.json", "adapter_config.json", "modules.json", "model_index.json")
MAX_SUBFOLDER_LENGTH = 255
# Files of a model folder that are not its config: named, they mean the folder (from_pretrained takes folders).
_NOT_A_CONFIG = re.compile(r".*\.(?:safetensors|bin|pt|pth|ckpt|h5|msgpack|safetensors\.index\.json|bin\.index\.json)"
                           r"|adapter_config\.json|modules\.json|model_index\.json|adapter_model\.\w+")
_VARIANT = re.compile(r"[\w\-]{1,64}", re.ASCII)


def check_subfolder(name: object, where: str) -> str:
    """A folder inside a repository, named by the user or by one of its files: relative, no '..', no drive."""
    if not isinstance(name, str) or not name or len(name) > MAX_SUBFOLDER_LENGTH:
        raise InvalidReferenceError(f"{where}: a folder name must be a non-empty string of at most "
                                    f"{MAX_SUBFOLDER_LENGTH} characters")
    if ("\\" in name or ":" in name or any(unicodedata.category(c) in _INVISIBLE for c in name)
            or any(part in ("", ".", "..") for part in name.strip("/").split("/")) or name.startswith("/")):
        shown = name if len(name) <= 80 else name[:77] + "..."
        raise InvalidReferenceError(f"{where}: folder {shown!r} points outside the repository")
    return name.strip("/")


def check_variant(name: str) -> str:
    """A weights variant (`fp16` for model.fp16.safetensors), as from_pretrained(variant=...) takes it."""
    if not _VARIANT.fullmatch(name):
        shown = name if len(name) <= 80 else name[:77] + "..."
        raise InvalidReferenceError(f"--variant {shown!r}: a variant is a short name such as 'fp16' "
                                    "(letters, digits, '-' and '_')")
    return name


@dataclass(frozen=True)
class ModelRef:
    """A validated reference: exactly one of `local_dir` or `repo_id` is set."""

    text: str
    local_dir: Path | None = None
    repo_id: str | None = None
    revision: str | None = None
    config_file: str = "config.json"
    # The model's folder inside its repository (`--subfolder`, a pipeline component, a sentence-transformers
    # module). Hub file names are prefixed with it; a local model's `local_dir` already ends with it.
    subfolder: str = ""
    # A Hub id that reads like a mistyped local path: its first part is an existing local folder.
    missing_local_folder: bool = False
    variant: str | None = None  # from_pretrained(variant=...): model.<variant>.safetensors and the like

    @property
    def is_local(self) -> bool:
        return self.local_dir is not None

    def display(self) -> str:
        """The model as the user typed it (a relative path stays relative), with the subfolder it points into."""
        if self.is_local:
            shown = self.text.rstrip("/") or self.text
            return f"{shown}/{self.subfolder}" if self.subfolder else shown
        shown = f"{self.repo_id}@{self.revision}" if self.revision else str(self.repo_id)
        return f"{shown}/{self.subfolder}" if self.subfolder else shown

    def repo_path(self, filename: str) -> str:
        """The path of a Hub model's file inside its repository."""
        return f"{self.subfolder}/{filename}" if self.subfolder and not self.is_local else filename

    @property
    def root_dir(self) -> Path | None:
        """A local model's repository folder, above its subfolder."""
        if self.local_dir is None:
            return None
        return self.local_dir.parents[len(Path(self.subfolder).parts) - 1] if self.subfolder else self.local_dir

    def inside(self, folder: str) -> ModelRef:
        """The same repository, at `folder` below this reference (checked not to escape it)."""
        if not folder:
            return self
        folder = check_subfolder(folder, self.display())
        subfolder = f"{self.subfolder}/{folder}" if self.subfolder else folder
        if self.is_local:
            return replace(self, local_dir=self.local_dir / folder, subfolder=subfolder, config_file="config.json")
        return replace(self, subfolder=subfolder, config_file="config.json")


def _reject(text: str, why: str) -> InvalidReferenceError:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return InvalidReferenceError(
        f"invalid model reference {shown!r}: {why}",
        hint="use a Hub id such as 'gpt2' or 'org/name', or a local directory that holds config.json",
    )


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", "./", "../", "~")) or text in (".", "..")


def parse_reference(text: str, revision: str | None = None, subfolder: str | None = None) -> ModelRef:
    """Validate `text` and decide whether it names a local model or a Hub repository.

    An existing local path always wins, as in transformers' `from_pretrained`. `subfolder` is the
    model's folder inside the repository, as `from_pretrained(..., subfolder=...)` takes it.
    """
    if subfolder:
        check_subfolder(subfolder, "--subfolder")
    if not text or not text.strip():
        raise _reject(text, "it is empty")
    if len(text) > MAX_REFERENCE_LENGTH:
        raise _reject(text, f"it is {len(text)} characters long (at most {MAX_REFERENCE_LENGTH})")
    if any(unicodedata.category(c) in _INVISIBLE for c in text):
        raise _reject(text, "it contains control characters")

    try:
        path = Path(text).expanduser()
    except RuntimeError:  # "~nosuchuser/x": no such home directory
        raise _reject(text, "it starts with '~' but names no user on this machine") from None
    if _looks_like_path(text) or path.exists():
        return _local_reference(text, path, revision, subfolder)

    repo_id, at_revision = text, None
    if "@" in text:
        repo_id, _, at_revision = text.partition("@")
        if revision and at_revision and revision != at_revision:
            raise _reject(text, f"it names revision {at_revision!r} but --revision says {revision!r}")
    revision = revision or at_revision or None
    if ".." in repo_id or "--" in repo_id:
        raise _reject(text, "'..' and '--' are not allowed in a Hub id (and no such local directory exists)")
    if not _HUB_ID.fullmatch(repo_id) or repo_id[0] in "-." or repo_id[-1] in "-.":
        raise _reject(text, "not an existing local path, and not a Hub id of the form 'name' or 'org/name'")
    if revision is not None and (not _REVISION.fullmatch(revision) or ".." in revision):
        raise _reject(text, f"malformed revision {revision!r}")
    return ModelRef(text=text, repo_id=repo_id, revision=revision, subfolder=(subfolder or "").strip("/"),
                    missing_local_folder="/" in repo_id and Path(repo_id.partition("/")[0]).is_dir())


@contextmanager
def local_folder_first(ref: ModelRef) -> Iterator[None]:
    """When the Hub cannot answer for a reference that reads like a mistyped local path (`examples/nonexistent`
    beside an `examples/` folder), say first that no such local folder exists, then what the Hub said."""
    try:
        yield
    except (ModelNotFoundError, HubUnreachableError) as error:
        if not ref.missing_local_folder:
            raise
        folder = ref.text.partition("/")[0]
        raise ModelNotFoundError(
            f"no such local folder: {ref.text}; "
            f"as a Hub id: {error.message}",
            hint=f"check the path ('ls {folder}'); for a Hub model: {error.hint or 'check the id'}",
        ) from None


def _local_reference(text: str, path: Path, revision: str | None, subfolder: str | None) -> ModelRef:
    if path.is_dir() and (path / "snapshots").is_dir() and not (path / "config.json").exists():
        path = _cache_snapshot(text, path, revision)
    elif revision:
        raise _reject(text, "--revision applies to Hub ids and cache folders, not to local model directories")
    if path.is_file():
        if _NOT_A_CONFIG.fullmatch(path.name):
            folder = str(Path(text).parent)
            raise InvalidReferenceError(f"{text} is a file of a model, not its config.json: pass the model's folder",
                                        hint=f"pass {folder} instead: from_pretrained takes the folder, not a file in it")
        if subfolder:
            raise _reject(text, "--subfolder applies to a directory, not to a file")
        return ModelRef(text=text, local_dir=path.parent.resolve(), config_file=path.name)
    if not path.is_dir():  # a path that is not there is a missing model, like a Hub id that is not there
        raise ModelNotFoundError(f"no such local directory: {text}")
    if subfolder:
        subfolder = subfolder.strip("/")
        if not (path / subfolder).is_dir():
            raise ModelNotFoundError(f"{text} has no subfolder {subfolder!r}")
        return ModelRef(text=text, local_dir=path.resolve() / subfolder, subfolder=subfolder)
    if not _has_marker(path):
        raise ModelNotFoundError(
            f"{text} is a directory without config.json",
            hint="point amx at the folder that holds the model's config.json (or its adapter_config.json, "
                 "modules.json, model_index.json or .gguf file)",
        )
    return ModelRef(text=text, local_dir=path.resolve())


def _has_marker(path: Path) -> bool:
    if any((path / name).exists() or (path / name).is_symlink() for name in REPOSITORY_MARKERS):
        return True
    try:
        return any(entry.name.endswith(".gguf") for entry in os.scandir(path))
    except OSError:
        return False


def _cache_snapshot(text: str, repo_dir: Path, revision: str | None) -> Path:
    """A Hugging Face cache folder (models--org--name): the snapshot of `revision` (default main)."""
    wanted = revision or "main"
    ref_file = repo_dir / "refs" / wanted
    commit = ref_file.read_text().strip() if ref_file.is_file() and "/" not in wanted else wanted
    snapshot = repo_dir / "snapshots" / commit
    if not _REVISION.fullmatch(commit) or not snapshot.is_dir():
        available = sorted(p.name for p in (repo_dir / "refs").glob("*")) if (repo_dir / "refs").is_dir() else []
        raise ModelNotFoundError(
            f"{text}: the cache folder has no snapshot for revision {wanted!r}",
            hint=f"cached refs: {', '.join(available) or 'none'}; pass --revision with a commit from snapshots/",
        )
    return snapshot


def local_file(ref: ModelRef, filename: str) -> Path:
    """The path of `filename` inside a local model, refusing names that escape its directory.

    The check is on the name, not the resolved path: Hugging Face cache snapshots are symlinks into
    a sibling blobs/ folder, and following them is legitimate.
    """
    assert ref.local_dir is not None
    parts = Path(filename).parts
    if not parts or Path(filename).is_absolute() or ".." in parts:
        raise InvalidReferenceError(f"{filename!r} points outside the model directory {ref.local_dir}")
    return ref.local_dir / filename


def locate_file(ref: ModelRef, filename: str, token: str | None = None) -> tuple[Path, bool]:
    """Return (local path, came_from_cache_because_offline) of one file of the model.

    Local models are read in place; Hub models go through `hub.fetch_file`, the only network code.
    """
    if ref.is_local:
        path = local_file(ref, filename)
        if not path.exists() and not path.is_symlink():
            raise ModelNotFoundError(f"{filename} not found in {ref.local_dir}")
        return path, False

    fetched = hub.fetch_file(ref.repo_id, ref.repo_path(filename), revision=ref.revision, token=token)
    return fetched.path, fetched.from_cache


@dataclass(frozen=True)
class ResolvedConfig:
    ref: ModelRef
    config: ModelConfig
    from_cache: bool  # the Hub was offline or unreachable and the cached copy was used


def resolve_config(text: str, revision: str | None = None, token: str | None = None) -> ResolvedConfig:
    """Parse a reference and read its config.json, fetching only that file from the Hub."""
    ref = parse_reference(text, revision)
    with local_folder_first(ref):
        path, from_cache = locate_file(ref, ref.config_file, token=token)
    return ResolvedConfig(ref=ref, config=read_config(path), from_cache=from_cache)
