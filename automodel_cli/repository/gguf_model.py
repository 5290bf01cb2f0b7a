"""A GGUF checkpoint as a model: the file chosen, its header, and the config transformers builds from it.

repository.py decides that a reference is a GGUF checkpoint (`--gguf-file NAME`, the path of a `.gguf`
file, or a folder or Hub repository with GGUF files and no config.json) and calls `open_gguf`. A
folder with config.json and GGUF files is read from config.json unless `--gguf-file` asks, as
`from_pretrained` does without `gguf_file=`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..base.errors import BadInputError, HubUnreachableError, UnsupportedModelError
from ..files import hub
from ..files.checkpoint_files import CheckpointFiles, HubFiles, LocalFiles
from ..files.reference import ModelRef, ResolvedConfig
from ..formats.gguf_checkpoint import (
    GgufCheckpoint,
    GgufChoice,
    choose_gguf,
    is_gguf,
    is_gguf_file_name,
    read_gguf_checkpoint,
)
from ..knowledge.gguf_config import DerivedConfig, derive_config, gguf_model_config
from ..knowledge.head_index import load_index


@dataclass
class GgufTarget:
    ref: ModelRef
    files: CheckpointFiles
    choice: GgufChoice
    from_cache: bool = False

    def where(self) -> str:
        return self.files.where(self.choice.name)


@dataclass
class GgufModel:
    target: GgufTarget
    checkpoint: GgufCheckpoint
    derived: DerivedConfig
    resolved: ResolvedConfig | None  # None when transformers cannot load the architecture

    @property
    def ref(self) -> ModelRef:
        return self.target.ref

    @property
    def from_cache(self) -> bool:
        return self.target.from_cache

    def note(self) -> str:
        """What a config-based answer for this checkpoint rests on, for the commands' notes."""
        return (f"from the GGUF file {self.target.choice.name} (architecture {self.derived.architecture}): the "
                "config is the one transformers builds from its metadata; GGUF names no model class, so the native "
                "head is the model type's causal LM, as llama.cpp runs it")


def _checkpoint_files(ref: ModelRef, token: str | None, hub_unreachable: HubUnreachableError | None
                      ) -> tuple[CheckpointFiles, bool]:
    """Where the GGUF files are read: the local folder, the Hub (range requests) or its cached snapshot."""
    if ref.is_local:
        assert ref.local_dir is not None
        return LocalFiles(ref.local_dir), False

    if hub_unreachable is None and not hub.is_offline():
        return HubFiles(ref, token), False
    snapshot = hub.cached_snapshot(ref.repo_id, ref.revision)
    if snapshot is None:
        raise hub_unreachable or HubUnreachableError(
            f"HF_HUB_OFFLINE is set and {ref.display()} is not in the Hugging Face cache",
            hint="unset HF_HUB_OFFLINE to read it, or pass a local directory")
    return LocalFiles(snapshot / ref.subfolder, cached_repo=ref.repo_id), True


def open_gguf(ref: ModelRef, token: str | None, gguf_file: str | None,
              hub_unreachable: HubUnreachableError | None = None) -> GgufModel:
    """Choose the GGUF checkpoint, read its header(s) and derive the config transformers would build."""
    if ref.is_local and is_gguf(ref.config_file):  # the path of a .gguf file
        if gguf_file is not None and gguf_file != ref.config_file:
            raise BadInputError(f"{ref.text} is a GGUF file itself, but --gguf-file names {gguf_file!r}")
        gguf_file = ref.config_file
    if gguf_file is not None and not is_gguf_file_name(gguf_file):
        raise BadInputError(f"--gguf-file {gguf_file!r} must be the name of a .gguf file inside the model, "
                            "such as model-Q4_K_M.gguf")
    files, from_cache = _checkpoint_files(ref, token, hub_unreachable)
    target = GgufTarget(ref, files, choose_gguf(files, gguf_file, ref.display()), from_cache)
    checkpoint = read_gguf_checkpoint(files, target.choice)
    derived = derive_config(checkpoint.header, target.where())

    try:
        config = gguf_model_config(derived, target.where(), load_index())
    except UnsupportedModelError as error:
        derived.loadable, derived.reason = False, error.message
        return GgufModel(target, checkpoint, derived, None)
    return GgufModel(target, checkpoint, derived, ResolvedConfig(ref=ref, config=config, from_cache=from_cache))
