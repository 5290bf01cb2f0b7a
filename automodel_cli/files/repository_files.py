"""The small files of one repository, a local folder or a Hub repository listed once: what every repository
shape reads its JSON files through."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ..base.errors import HubUnreachableError, ModelNotFoundError
from . import hub
from .config_reader import load_json_object, read_config
from .reference import ModelRef, ResolvedConfig, local_file, locate_file

CONFIG = "config.json"


class RepositoryFiles:
    """The small files of one repository: a local folder, or a Hub repository listed once.

    When the listing fails because the Hub cannot be reached, the cached copies answer; when nothing
    usable is cached, the listing's error is the answer (no second network timeout).
    """

    def __init__(self, ref: ModelRef, token: str | None, listing: set[str] | None = None,
                 unreachable: HubUnreachableError | None = None):
        self.ref, self.token, self.listing, self.unreachable = ref, token, listing, unreachable
        self.from_cache = False

    @classmethod
    def listed(cls, ref: ModelRef, token: str | None) -> RepositoryFiles:
        """The files of `ref`: a Hub repository is listed once (not when HF_HUB_OFFLINE is set)."""
        if ref.is_local:
            return cls(ref, token)

        if hub.is_offline():
            return cls(ref, token)
        try:
            return cls(ref, token, {f.path for f in hub.list_repo_files(ref.repo_id, revision=ref.revision,
                                                                         token=token)})
        except HubUnreachableError as error:
            return cls(ref, token, unreachable=error)
        except ModelNotFoundError:  # fetching config.json names the problem precisely (the revision...)
            return cls(ref, token)

    def _view(self, ref: ModelRef) -> RepositoryFiles:
        """The same repository at another folder, sharing the listing (no new request)."""
        return RepositoryFiles(ref, self.token, self.listing, self.unreachable)

    def inside(self, folder: str) -> RepositoryFiles:
        return self._view(self.ref.inside(folder))

    def at_root(self) -> RepositoryFiles:
        """The repository's top folder, above `--subfolder`."""
        ref = self.ref
        if ref.is_local:
            return self._view(replace(ref, local_dir=ref.root_dir, subfolder=""))
        return self._view(replace(ref, subfolder=""))

    def where(self, name: str) -> str:
        """A file as messages name it."""
        return str(self.ref.local_dir / name) if self.ref.is_local else f"{self.ref.display()}/{name}"

    def has(self, name: str) -> bool:
        if self.ref.is_local:
            try:
                path = local_file(self.ref, name)
                return path.exists() or path.is_symlink()
            except (OSError, ValueError):
                return False
        path = self.ref.repo_path(name)
        if self.listing is not None:
            return path in self.listing

        return hub.cached_file(self.ref.repo_id, path, self.ref.revision) is not None

    def has_folder(self, name: str) -> bool:
        if self.ref.is_local:
            return (self.ref.local_dir / name).is_dir()
        prefix = self.ref.repo_path(name) + "/"
        if self.listing is not None:
            return any(path.startswith(prefix) for path in self.listing)
        return self.has(f"{name}/config.json")

    def names(self) -> list[str]:
        """The files directly in the model's folder (without a listing: those in the cache)."""
        if self.listing is not None:
            prefix = self.ref.repo_path("")
            return sorted(p[len(prefix):] for p in self.listing if p.startswith(prefix) and "/" not in p[len(prefix):])
        folder = self.ref.local_dir
        if folder is None:
            snapshot = hub.cached_snapshot(self.ref.repo_id, self.ref.revision)
            folder = snapshot / self.ref.subfolder if snapshot else None
        try:
            return sorted(entry.name for entry in os.scandir(folder)) if folder else []
        except OSError:
            return []

    def locate(self, name: str) -> Path:
        if self.unreachable is not None:
            cached = hub.cached_file(self.ref.repo_id, self.ref.repo_path(name), self.ref.revision)
            if cached is None:
                raise self.unreachable
            self.from_cache = True
            return cached
        if self.listing is not None and self.ref.repo_path(name) not in self.listing:
            raise ModelNotFoundError(f"{name} not found in {self.ref.display()}")
        path, from_cache = locate_file(self.ref, name, self.token)
        self.from_cache |= from_cache
        return path

    def read_json(self, name: str, what: str) -> dict:
        return load_json_object(self.locate(name), what)

    def resolved_config(self, name: str = CONFIG) -> ResolvedConfig:
        return ResolvedConfig(ref=self.ref, config=read_config(self.locate(name)), from_cache=self.from_cache)
