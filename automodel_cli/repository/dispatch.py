"""The shape of a model repository, decided once from its small JSON files, for every command.

A repository is not always one transformers folder:

- `adapter`: adapter_config.json (PEFT) naming a base model; the commands answer for the base's config.json;
- `sentence-transformers`: modules.json chaining a Transformer module with Pooling, Dense, Normalize...;
  the commands answer for the Transformer module's config.json;
- `diffusers`: model_index.json naming components in subfolders (a pipeline), or, with `--subfolder`, one
  component of a library other than transformers (no Auto heads);
- `gguf`: `*.gguf` files and no config.json;
- `transformers`: config.json (also a pipeline component that is a transformers model).

Decided in transformers' own order (adapter_config.json first, as `AutoModel.from_pretrained` looks for
it first). The JSON files get config.json's treatment: size cap, strict types, folder names checked not to
escape the repository, nothing imported. A Hub repository costs one listing request; when the Hub cannot
be reached, the Hugging Face cache answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..base.errors import (
    AmxError,
    HubUnreachableError,
    ModelNotFoundError,
    UnsupportedModelError,
)
from ..files.config_reader import read_config
from ..files.reference import (
    ModelRef,
    ResolvedConfig,
    check_variant,
    local_folder_first,
    locate_file,
    parse_reference,
)
from ..files.repository_files import CONFIG, RepositoryFiles
from ..formats.gguf_checkpoint import is_gguf
from ..shapes.adapter import (
    ADAPTER_CONFIG,
    AdapterInfo,
    base_model_reference,
    parse_adapter_config,
    shown,
)
from ..shapes.pipeline import (
    Component,
    Pipeline,
    component_from_config,
    component_of,
    read_pipeline,
)
from ..shapes.sentence_transformers import SentenceChain, read_chain
from .gguf_model import open_gguf

MODULES = "modules.json"
MODEL_INDEX = "model_index.json"
KINDS = ("transformers", "adapter", "sentence-transformers", "diffusers", "gguf")


@dataclass
class Repository:
    """What a MODEL reference is, and the transformers model the commands answer for."""

    kind: str  # one of KINDS
    ref: ModelRef  # as the user named it (with --subfolder)
    resolved: ResolvedConfig | None  # the transformers config to answer for; None when there is none
    adapter: AdapterInfo | None = None
    modules: SentenceChain | None = None  # a sentence-transformers model's module chain (modules.json)
    pipeline: Pipeline | None = None  # the components of model_index.json
    component: Component | None = None  # --subfolder of a pipeline component without Auto heads
    gguf_files: list[str] = field(default_factory=list)
    gguf: object | None = None  # gguf_model.GgufModel: the chosen GGUF checkpoint, its header and derived config
    from_cache: bool = False
    notes: list[str] = field(default_factory=list)

    def display(self) -> str:
        return self.ref.display()

    def transformers_config(self) -> ResolvedConfig:
        """The config to answer for, or one line saying why this repository has none."""
        if self.resolved is not None:
            return self.resolved
        raise UnsupportedModelError(self.no_transformers_model(), hint=self.no_transformers_hint())

    def no_transformers_model(self) -> str:
        if self.kind == "gguf":
            return self.gguf.derived.reason
        if self.component is not None:
            return (f"{self.display()} is a {self.component.library or 'non-model'} component "
                    f"({self.component.class_name or 'no class'}) without transformers Auto heads")
        return (f"{self.display()} is a diffusers pipeline ({self.pipeline.class_name or 'no _class_name'}) "
                "without transformers Auto heads of its own")

    def no_transformers_hint(self) -> str:
        if self.pipeline is not None:
            names = [c.name for c in self.pipeline.components if c.library == "transformers" and c.has_config]
            if names:
                return f"point at a transformers component with --subfolder ({', '.join(names)})"
            return "amx inspect lists the components and their sizes"
        if self.kind == "gguf":
            return "`amx inspect` still lists the file's tensors"
        return f"load it with {self.component.library or 'its own library'}; amx inspect shows its weights"


def resolve_repository(text: str, revision: str | None = None, token: str | None = None,
                       subfolder: str | None = None, gguf_file: str | None = None,
                       variant: str | None = None) -> Repository:
    """Parse a reference and decide the repository's shape, fetching only its small JSON files.

    `gguf_file` (`--gguf-file`) reads that GGUF file of the repository, config.json or not; `variant`
    (`--variant`) the weights from_pretrained(variant=...) reads.
    """
    ref = parse_reference(text, revision, subfolder)
    if variant is not None:
        ref = replace(ref, variant=check_variant(variant))
    with local_folder_first(ref):
        return open_repository(ref, token, gguf_file)


def open_repository(ref: ModelRef, token: str | None = None, gguf_file: str | None = None) -> Repository:
    files = RepositoryFiles.listed(ref, token)
    if gguf_file is not None or is_gguf(ref.config_file):  # asked for, or the path of a .gguf file itself
        return resolve_gguf(files, gguf_file or ref.config_file)
    if ref.config_file != CONFIG:  # the path of a config file itself
        return _transformers(files)
    if files.has(ADAPTER_CONFIG):
        return _adapter(files)
    if ref.subfolder and not files.has(MODEL_INDEX):
        component = _pipeline_component(files)
        if component is not None:
            return component
    if files.has(MODEL_INDEX):
        pipeline = read_pipeline(files)
        return Repository("diffusers", ref, None, pipeline=pipeline, from_cache=files.from_cache)
    if files.has(MODULES):
        chain = read_chain(files)
        transformer = files.inside(chain.transformer_path) if chain.transformer_path else files
        resolved = transformer.resolved_config()
        return Repository("sentence-transformers", ref, resolved, modules=chain,
                          from_cache=files.from_cache or transformer.from_cache)
    if not files.has(CONFIG):
        if any(is_gguf(name) for name in files.names()):
            return resolve_gguf(files, None)
    return _transformers(files)


def _transformers(files: RepositoryFiles) -> Repository:
    resolved = files.resolved_config(files.ref.config_file)
    if resolved.config.model_type is None and "_diffusers_version" in resolved.config.raw:
        component = component_from_config(files.ref, resolved.config.raw)
        return Repository("diffusers", files.ref, None, component=component, from_cache=files.from_cache)
    return Repository("transformers", files.ref, resolved, from_cache=resolved.from_cache)


def resolve_gguf(files: RepositoryFiles, gguf_file: str | None) -> Repository:
    """A GGUF checkpoint: the file asked for, or the only one (several: BadInputError listing them). Its
    header is read (range requests on the Hub) and `resolved` is the config transformers builds from it,
    or None when transformers cannot load the architecture (`no_transformers_model` says why)."""
    gguf = open_gguf(files.ref, files.token, gguf_file, hub_unreachable=files.unreachable)
    return Repository("gguf", files.ref, gguf.resolved, gguf_files=list(gguf.target.choice.parts), gguf=gguf,
                      from_cache=gguf.target.from_cache)


def _pipeline_component(files: RepositoryFiles) -> Repository | None:
    """`--subfolder NAME` of a pipeline: a transformers component is answered as a transformers model, any
    other (a UNet, a VAE, a scheduler, a tokenizer) as a component without Auto heads."""
    component = component_of(files)
    if component is None or (component.library == "transformers" and component.has_config):
        return None
    return Repository("diffusers", files.ref, None, component=component, from_cache=files.from_cache)


def _adapter(files: RepositoryFiles) -> Repository:
    ref = files.ref
    where = files.where(ADAPTER_CONFIG)
    info = parse_adapter_config(files.read_json(ADAPTER_CONFIG, "adapter config"), where)
    if ref.is_local and files.has(CONFIG):  # transformers loads a folder with its own config.json as the base
        info.embedded_base, info.base_reference = True, ref.display()
        return Repository("adapter", ref, files.resolved_config(), adapter=info, from_cache=files.from_cache)
    try:
        base_ref = base_model_reference(ref, info, where)
        info.base_reference = base_ref.display()
        path, from_cache = locate_file(base_ref, CONFIG, files.token)
        resolved = ResolvedConfig(ref=base_ref, config=read_config(path), from_cache=from_cache)
    except ModelNotFoundError as error:
        if info.base_reference and _is_adapter(base_ref, files.token):
            raise ModelNotFoundError(
                f"{where}: the base model {shown(info.base_model)} is itself an adapter (no config.json); "
                "transformers does not follow chains of adapters",
                hint="set base_model_name_or_path to the model the adapters were trained on") from None
        relative = "" if info.base_model.startswith(".") else _relative_base(ref, info.base_model)
        raise ModelNotFoundError(f"{where}: base model {shown(info.base_model)}: {relative}{error.message}",
                                 error.hint) from None
    except (HubUnreachableError, UnsupportedModelError) as error:
        relative = _relative_base(ref, info.base_model)
        raise type(error)(f"{where}: base model {shown(info.base_model)}: {relative}{error.message}",
                          error.hint) from None
    return Repository("adapter", ref, resolved, adapter=info, from_cache=files.from_cache or resolved.from_cache)


def _relative_base(adapter: ModelRef, base: str) -> str:
    """For a local adapter whose base reads like a relative path: where transformers looked for it (the
    current directory, not the adapter's folder), and where that folder is, if it is near the adapter."""
    if adapter.local_dir is None or base.startswith(("/", "~")):
        return ""
    near = next((folder for folder in (adapter.local_dir, *adapter.local_dir.parents[:2]) if (folder / base).is_dir()),
                None)
    if near is None and not base.startswith("."):
        return ""
    there = f" (it is one from {near}: run from there, or write the base's absolute path)" if near else ""
    return f"no such folder from the current directory {Path.cwd()}, where a relative base is looked for{there}; " \
           "as a Hub id: "


def _is_adapter(ref: ModelRef, token: str | None) -> bool:
    """Whether a base model without config.json is an adapter (asked only to explain the failure)."""
    try:
        return RepositoryFiles.listed(ref, token).has(ADAPTER_CONFIG)
    except AmxError:
        return False
