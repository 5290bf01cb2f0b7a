"""Where a model's weight files are, which of them transformers would load, and reading bytes of them.

One interface over three places: a local directory, a Hub repository (one listing request, then
HTTP range requests through `hub.py`), and the Hugging Face cache snapshot of a Hub repository when
the Hub cannot be reached. Only regular files are ever opened (a FIFO named like a shard would block
forever), and nothing is unpickled: pickle checkpoints are only listed. A file named as transformers
would load weights that is not a regular file (a directory, a FIFO, a link to a device or nowhere) is an
error naming it, never skipped: skipping it would silently answer for another checkpoint.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from ..base.errors import AmxError, BadInputError, HubUnreachableError
from . import hub
from .reference import ModelRef

SAFETENSORS_INDEX = "model.safetensors.index.json"
SAFETENSORS_SINGLE = "model.safetensors"
# What diffusers' ModelMixin.from_pretrained reads in a pipeline component's folder (without variant=).
DIFFUSERS_INDEX = "diffusion_pytorch_model.safetensors.index.json"
DIFFUSERS_SINGLE = "diffusion_pytorch_model.safetensors"
PICKLE_INDEX = "pytorch_model.bin.index.json"
PICKLE_SINGLE = "pytorch_model.bin"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
NOT_WEIGHTS = {"training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt"}  # left by training runs
# What save_pretrained(..., variant=V) writes: model.V.safetensors, model.V-00001-of-00002.safetensors,
# model.safetensors.index.V.json and their pytorch_model.bin equivalents.
_VARIANT_FILE = re.compile(r"(?:model|pytorch_model)\.(?P<variant>[\w\-]+?)(?:-\d{5}-of-\d{5})?\.(?:safetensors|bin)"
                           r"|(?:model\.safetensors|pytorch_model\.bin)\.index\.(?P<indexed>[\w\-]+)\.json")
UNKNOWN_HEADER_GUESS = 32 * 1024  # first range of a Hub file whose tensor names are not known in advance

Fetch = Callable[[int, int], tuple[bytes, int | None]]  # (start, end) -> (bytes, file size if now known)


class LocalFiles:
    """A checkpoint in a local directory, or in the HF cache snapshot of `cached_repo` when the Hub is not
    reachable (then a missing shard means "not downloaded", not "broken index")."""

    def __init__(self, root: Path, cached_repo: str | None = None, variant: str | None = None):
        self.root, self.cached_repo, self.variant = root, cached_repo, variant

    def where(self, name: str) -> str:
        return f"{self.cached_repo}/{name}" if self.cached_repo else str(self.root / name)

    def missing(self, name: str, problem: str) -> AmxError:
        if self.cached_repo:
            return HubUnreachableError(f"cannot reach the Hub and {self.where(name)} is not in the HF cache")
        return BadInputError(problem)

    def _stat(self, name: str) -> os.stat_result | None:
        try:
            info = os.stat(self.root / name)
        except (OSError, ValueError):  # broken link, symlink loop, NUL in a name
            return None
        return info if stat.S_ISREG(info.st_mode) else None

    def _refuse_irregular(self, name: str) -> None:
        """BadInputError when `name` exists (even as a dangling link) but is not a regular file."""
        try:
            os.lstat(self.root / name)
        except (OSError, ValueError):
            return
        if self._stat(name) is None:
            raise BadInputError(f"{self.where(name)}: {_kind(self.root / name)}, not a regular file: "
                                "it cannot be read as weights", hint="replace it with the real file or remove it")

    def root_files(self) -> list[str]:
        try:
            names = [entry.name for entry in os.scandir(self.root)]
        except OSError as error:
            raise BadInputError(f"{self.root}: cannot list the model's files: {error.strerror or error}") from None
        for name in names:
            if is_weight_name(name):
                self._refuse_irregular(name)
        return [name for name in names if self._stat(name)]

    def has(self, name: str) -> bool:
        self._refuse_irregular(name)
        return self._stat(name) is not None

    def size(self, name: str, ask: bool = False) -> int | None:
        info = self._stat(name)
        return info.st_size if info else None

    def guess(self, tensor_names: list[str] | None) -> int:
        return 8  # a local read costs nothing extra: read the length, then exactly the header

    def sha256(self, name: str) -> None:
        """Local files have no listed hash, and hashing one would read all its weights."""
        return None

    def fetch(self, name: str) -> Fetch:
        def read(start: int, end: int) -> tuple[bytes, int | None]:
            try:
                with open(self.root / name, "rb") as handle:
                    handle.seek(start)
                    return handle.read(end - start), None
            except OSError as error:
                raise BadInputError(f"{self.where(name)}: cannot read: {error.strerror or error}") from None

        return read


def _kind(path: Path) -> str:
    """What a path that is not a regular file is, in words."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        return "a broken link" if error.errno == errno.ENOENT else f"unreadable ({error.strerror or error})"
    except ValueError:
        return "an unreadable name"
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    what = next((label for test, label in kinds if test(mode)), "a special file")
    return f"a link to {what}" if path.is_symlink() else what


def is_weight_name(name: str) -> bool:
    """Whether transformers could load weights from a root file of this name (see `weight_files`)."""
    if name.endswith((".safetensors", ".safetensors.index.json")) or name in (PICKLE_INDEX, PICKLE_SINGLE):
        return True
    return name.endswith(PICKLE_SUFFIXES) and name not in NOT_WEIGHTS and not name.startswith("rng_state")


class HubFiles:
    """A checkpoint on the Hub (or an HF_ENDPOINT mirror): one listing, then range reads."""

    def __init__(self, ref: ModelRef, token: str | None):
        self.ref, self.token, self._hub, self.variant = ref, token, hub, ref.variant
        listing = hub.list_repo_files(ref.repo_id, revision=ref.revision, token=token)
        prefix = ref.repo_path("")
        self._sizes = {f.path[len(prefix):]: f.size for f in listing if f.path.startswith(prefix)}
        self._hashes = {f.path[len(prefix):]: f.sha256 for f in listing if f.path.startswith(prefix) and f.sha256}

    def where(self, name: str) -> str:
        return f"{self.ref.repo_id}/{self.ref.repo_path(name)}"

    def missing(self, name: str, problem: str) -> AmxError:
        return BadInputError(problem)

    def root_files(self) -> list[str]:
        return [path for path in self._sizes if "/" not in path]

    def has(self, name: str) -> bool:
        return name in self._sizes

    def size(self, name: str, ask: bool = False) -> int | None:
        """The listed size; with `ask`, a HEAD request when the listing had none (olah mirrors)."""
        known = self._sizes.get(name)
        if known is None and ask:
            return self._hub.file_size(self.ref.repo_id, self.ref.repo_path(name), revision=self.ref.revision,
                                       token=self.token)
        return known

    def sha256(self, name: str) -> str | None:
        """The content hash the Hub lists for a file stored with git-lfs (as weights are), else None."""
        return self._hashes.get(name)

    def guess(self, tensor_names: list[str] | None) -> int:
        """First range: the whole header if the index's tensor names predict it, else a few KB."""
        if tensor_names is None:
            return UNKNOWN_HEADER_GUESS
        return 8 + 256 + sum(len(name.encode()) + 128 for name in tensor_names)

    def fetch(self, name: str) -> Fetch:
        def read(start: int, end: int) -> tuple[bytes, int | None]:
            got = self._hub.read_range(self.ref.repo_id, self.ref.repo_path(name), start, end,
                                       revision=self.ref.revision, token=self.token)
            return got.data, got.file_size

        return read


CheckpointFiles = LocalFiles | HubFiles


def open_checkpoint(ref: ModelRef, token: str | None) -> CheckpointFiles:
    """The files of a local model, or of a Hub model (from the HF cache if the Hub is unreachable and the
    cache holds its weights)."""
    if ref.is_local:
        assert ref.local_dir is not None
        return LocalFiles(ref.local_dir, variant=ref.variant)
    try:
        return HubFiles(ref, token)
    except HubUnreachableError:
        snapshot = hub.cached_snapshot(ref.repo_id, ref.revision)
        cached = LocalFiles(snapshot / ref.subfolder, cached_repo=ref.repo_id, variant=ref.variant) if snapshot else None
        if cached is None or weight_files(cached)[0] == "none":
            raise
        return cached


def with_variant(name: str, variant: str | None) -> str:
    """The file name from_pretrained(variant=...) looks for: transformers' _add_variant."""
    if not variant:
        return name
    stem, suffix = name.rsplit(".", 1)
    return f"{stem}.{variant}.{suffix}"


def variants_in(names: list[str]) -> list[str]:
    """The variants whose weights save_pretrained(..., variant=...) left among `names`."""
    found = (_VARIANT_FILE.fullmatch(name) for name in names)
    return sorted({match["variant"] or match["indexed"] for match in found if match})


def _variant_weight_files(root: set[str], variant: str) -> tuple[str, str | None, list[str]]:
    """Exactly the four names from_pretrained(variant=...) tries, in its order."""
    for fmt, single, index in (("safetensors", SAFETENSORS_SINGLE, SAFETENSORS_INDEX),
                               ("pickle", PICKLE_SINGLE, PICKLE_INDEX)):
        if with_variant(single, variant) in root:
            return fmt, None, [with_variant(single, variant)]
        if with_variant(index, variant) in root:
            return fmt, with_variant(index, variant), []
    return "none", None, []


def weight_files(files: CheckpointFiles) -> tuple[str, str | None, list[str]]:
    """(format, index file or None, weight files when there is no index), chosen as transformers does."""
    root = set(files.root_files())
    if files.variant:
        return _variant_weight_files(root, files.variant)
    if SAFETENSORS_INDEX in root:
        return "safetensors", SAFETENSORS_INDEX, []
    if SAFETENSORS_SINGLE in root:
        return "safetensors", None, [SAFETENSORS_SINGLE]
    if DIFFUSERS_INDEX in root:
        return "safetensors", DIFFUSERS_INDEX, []
    if DIFFUSERS_SINGLE in root:
        return "safetensors", None, [DIFFUSERS_SINGLE]
    other_indexes = sorted(name for name in root if name.endswith(".safetensors.index.json"))
    if other_indexes:
        return "safetensors", other_indexes[0], []
    others = sorted(name for name in root if name.endswith(".safetensors"))
    if others:
        return "safetensors", None, others
    if PICKLE_INDEX in root:
        return "pickle", PICKLE_INDEX, []
    if PICKLE_SINGLE in root:
        return "pickle", None, [PICKLE_SINGLE]
    pickles = sorted(name for name in root if is_weight_name(name) and name.endswith(PICKLE_SUFFIXES))
    return ("pickle", None, pickles) if pickles else ("none", None, [])
