"""A model reference that stands for a GGUF checkpoint, and the config transformers builds from it.

A reference is a GGUF checkpoint when `--gguf-file NAME` is given, when it is a `.gguf` file itself,
or when the folder or Hub repository has GGUF files and no config.json (as most llama.cpp repositories).
A folder with config.json and GGUF files keeps being read from config.json unless `--gguf-file` asks,
as `from_pretrained` does without `gguf_file=`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .checkpoint_files import CheckpointFiles, HubFiles, LocalFiles
from .errors import AmxError, BadInputError, HubUnreachableError, ModelNotFoundError
from .gguf_checkpoint import GgufCheckpoint, GgufChoice, choose_gguf, is_gguf, read_gguf_checkpoint
from .gguf_config import DerivedConfig, derive_config
from .head_index import HeadIndex
from .reference import ModelRef, ResolvedConfig, parse_reference, resolve_config


@dataclass
class GgufTarget:
    ref: ModelRef
    files: CheckpointFiles
    choice: GgufChoice
    from_cache: bool = False

    def where(self) -> str:
        return self.files.where(self.choice.name)

    def read(self) -> GgufCheckpoint:
        return read_gguf_checkpoint(self.files, self.choice)


@dataclass(frozen=True)
class ResolvedGguf(ResolvedConfig):
    """A config built from a GGUF header, with the checkpoint it came from."""

    checkpoint: GgufCheckpoint | None = None
    derived: DerivedConfig | None = None


def _existing_path(text: str) -> Path | None:
    """`text` as an existing local path; None for anything else (left to parse_reference to judge)."""
    try:
        path = Path(text).expanduser()
        return path if text and path.exists() else None
    except (RuntimeError, ValueError, OSError):
        return None


def _check_gguf_file(name: str | None) -> None:
    if name is None:
        return
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or "\0" in name or any(p in ("", ".", "..") for p in parts):
        raise BadInputError(f"--gguf-file {name!r} must be a file name inside the model, such as model-Q4_K_M.gguf")


def _local_target(text: str, gguf_file: str | None) -> GgufTarget | None:
    path = _existing_path(text)
    if path is None:
        return None
    if path.is_file() and is_gguf(path.name):
        if gguf_file is not None and gguf_file != path.name:
            raise BadInputError(f"{text} is a GGUF file itself, but --gguf-file names {gguf_file!r}")
        root = path.parent.resolve()
        files = LocalFiles(root)
        return GgufTarget(ModelRef(text=text, local_dir=root, config_file=path.name), files,
                          choose_gguf(files, path.name, text))
    if not path.is_dir() or (path / "snapshots").is_dir():
        return None
    files = LocalFiles(path.resolve())
    has_config = (path / "config.json").exists()
    if gguf_file is None and (has_config or not any(is_gguf(n) for n in files.root_files())):
        return None
    return GgufTarget(ModelRef(text=text, local_dir=path.resolve()), files, choose_gguf(files, gguf_file, text))


def _hub_files(ref: ModelRef, token: str | None) -> tuple[CheckpointFiles, bool]:
    """The repository's files (one listing request), or its cached snapshot when the Hub is unreachable."""
    from . import hub

    try:
        return HubFiles(ref, token), False
    except HubUnreachableError:
        snapshot = hub.cached_snapshot(ref.repo_id, ref.revision)
        if snapshot is None:
            raise
        return LocalFiles(snapshot, cached_repo=ref.repo_id), True


def _hub_target(ref: ModelRef, files: CheckpointFiles, from_cache: bool, gguf_file: str | None) -> GgufTarget | None:
    names = files.root_files()
    if gguf_file is None and ("config.json" in names or not any(is_gguf(n) for n in names)):
        return None
    return GgufTarget(ref, files, choose_gguf(files, gguf_file, ref.display()), from_cache)


def find_gguf(text: str, revision: str | None = None, token: str | None = None,
              gguf_file: str | None = None) -> GgufTarget | None:
    """The GGUF checkpoint `text` stands for, or None when it is to be read from config.json."""
    _check_gguf_file(gguf_file)
    local = _local_target(text, gguf_file)
    if local is not None or _existing_path(text) is not None:
        return local
    ref = parse_reference(text, revision)
    return None if ref.is_local else _hub_target(ref, *_hub_files(ref, token), gguf_file)


def resolve_model(text: str, revision: str | None = None, token: str | None = None,
                  gguf_file: str | None = None) -> ResolvedConfig | GgufTarget:
    """config.json as before, or the GGUF checkpoint the reference stands for.

    Without --gguf-file, a Hub repository is asked for config.json first (one request, as before) and
    listed only when it has none.
    """
    if gguf_file is not None:
        target = find_gguf(text, revision, token, gguf_file)
        assert target is not None
        return target
    local = _local_target(text, None)
    if local is not None:
        return local
    try:
        return resolve_config(text, revision, token)
    except (ModelNotFoundError, HubUnreachableError) as error:
        if "config.json" not in error.message or _existing_path(text) is not None:
            raise
        try:  # a repository without config.json: does it hold GGUF files?
            ref = parse_reference(text, revision)
            files, from_cache = _hub_files(ref, token)
        except AmxError:
            raise error from None
        target = _hub_target(ref, files, from_cache, None)
        if target is None:
            raise
        return target


def gguf_resolved_config(target: GgufTarget, index: HeadIndex) -> ResolvedGguf:
    """The header's derived config as a ResolvedConfig, for commands that work from a config (heads,
    doctor, source). Raises UnsupportedModelError when transformers cannot load the architecture."""
    from .gguf_inspection import gguf_model_config

    checkpoint = target.read()
    derived = derive_config(checkpoint.header, target.where())
    config = gguf_model_config(derived, target.where(), index)
    return ResolvedGguf(ref=target.ref, config=config, from_cache=target.from_cache, checkpoint=checkpoint,
                        derived=derived)


def resolve_config_or_gguf(text: str, revision: str | None, token: str | None, gguf_file: str | None,
                           index_loader) -> ResolvedConfig:
    """For commands that need a config: config.json, or the config transformers derives from the GGUF."""
    resolved = resolve_model(text, revision, token, gguf_file)
    if isinstance(resolved, GgufTarget):
        return gguf_resolved_config(resolved, index_loader())
    return resolved


def gguf_note(resolved: ResolvedGguf) -> str:
    """What a config-based answer for a GGUF checkpoint rests on, for the command's notes."""
    assert resolved.checkpoint is not None and resolved.derived is not None
    return (f"from the GGUF file {resolved.checkpoint.choice.name} (architecture {resolved.derived.architecture}): "
            "the config is the one transformers builds from its metadata; GGUF names no model class, so the "
            "native head is the model type's causal LM, as llama.cpp runs it")
