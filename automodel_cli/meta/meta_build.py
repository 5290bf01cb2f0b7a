"""Building a model class on the meta device from config.json: every parameter's name, shape and dtype
without allocating a byte of weights (a 405B config builds in a fraction of a second).

The model is built the way `AutoXxx.from_config` builds it (`cls._from_config(config)`, with the
config's own dtype), inside `torch.device("meta")`. Repository code (auto_map) is only imported with
`trust_remote_code`, and only from a local directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..base.errors import AmxError, ConfigError, TorchMissingError, UnsupportedModelError
from ..compat.quiet import quiet_transformers
from ..compat.torch_extra import torch_installed
from ..compat.tying import tie_as_loaded
from ..files.config_reader import ModelConfig
from ..formats.tensors import TensorSpec, dtype_name
from ..knowledge.auto_class_names import auto_class_for_model
from ..knowledge.head_index import HeadIndex
from ..knowledge.heads import BASE_MODEL_AUTO, heads_for_config
from ..knowledge.registered import current, import_transformers_class
from .size_guard import bounded_build, check_counts


@dataclass
class MetaModel:
    auto_class: str
    model_class: str
    dtype: str
    num_parameters: int  # exactly `model.num_parameters()`: tied weights once, buffers never
    embedding_parameters: int  # input embedding tables, plus the output projection when it is not tied
    parameters: list[TensorSpec]  # named_parameters() (tied weights once) then persistent buffers
    embedding_names: set[str] = field(default_factory=set)  # every alias of an embedding parameter
    buffer_names: set[str] = field(default_factory=set)  # every buffer, persistent or not
    module: Any = field(default=None, repr=False, compare=False)  # the torch module, on the meta device


def resolve_head(config: ModelConfig, index: HeadIndex, head: str | None) -> tuple[str, str, bool]:
    """(auto class, model class, remote code) for `--head`, defaulting to the native head.

    `head` is read as every command reads it (`causal-lm`, `ner`...). Raises BadInputError for a name that is
    no Auto class, UnsupportedModelError listing the supported heads when it does not fit the config.
    """
    report = heads_for_config(config, index, str(config.path))
    by_auto = {h.auto_class: h for h in report.heads if not h.remote_code}
    by_auto.update({h.auto_class: h for h in report.heads if h.remote_code and h.auto_class not in by_auto})
    if head is not None:
        head = auto_class_for_model(head, index.auto_classes, report)  # short forms, as every command reads them
    else:
        head = report.native_head or (BASE_MODEL_AUTO if BASE_MODEL_AUTO in by_auto else next(iter(by_auto), None))
        if head is None:
            raise UnsupportedModelError(f"no Auto class of transformers {index.transformers_version} builds this model")
    chosen = by_auto.get(head)
    if chosen is None:
        raise UnsupportedModelError(
            f"--head {head} does not fit {config.model_type!r}",
            hint=f"heads for this model: {', '.join(by_auto) or 'none'} (see `amx heads`)",
        )
    return chosen.auto_class, chosen.model_class, chosen.remote_code


def _torch_dtype(value: Any):
    import torch

    if isinstance(value, str):
        value = getattr(torch, value.removeprefix("torch."), None)
    return value if isinstance(value, torch.dtype) and value.is_floating_point else torch.float32


def build_config(config: ModelConfig):
    """The transformers config object for a config.json, without running repository code."""
    from transformers import CONFIG_MAPPING

    if config.model_type not in CONFIG_MAPPING:
        raise UnsupportedModelError(f"model_type {config.model_type!r} is not known to the installed transformers")
    try:
        with quiet_transformers():
            built = CONFIG_MAPPING[config.model_type].from_dict(dict(config.raw))
    except Exception as error:  # noqa: BLE001 - config classes validate with many exception types
        raise ConfigError(f"{config.path}: transformers rejects this config: {_one_line(error)}") from None
    built.dtype = _torch_dtype(getattr(built, "dtype", None))
    return built


def _one_line(error: BaseException) -> str:
    """An exception as one line; long messages (module reprs...) keep their start and their end."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else f"{text[:97]} ... {text[-97:]}"


def instantiate(config: ModelConfig, auto_class: str, model_class: str, remote_code: bool = False,
                trust_remote_code: bool = False, local_dir=None):
    """The torch module of `model_class` on the meta device (weights never allocated); refused when larger
    than any real model (size_guard.py)."""
    check_counts(config.raw, str(config.path))  # before transformers, whose config classes expand per-layer lists
    if not torch_installed():
        raise TorchMissingError(f"building {model_class.rpartition('.')[2]} on the meta device")
    import torch

    if remote_code:
        return _instantiate_remote(auto_class, model_class, trust_remote_code, local_dir)
    import transformers

    if current() is not None:  # --import: a registered class is found only through the Auto mapping
        cls = import_transformers_class(auto_class, config.model_type or "", model_class)
    else:
        cls = getattr(transformers, model_class, None)
    if cls is None:
        raise UnsupportedModelError(f"transformers has no class {model_class}")
    built_config = build_config(config)
    try:
        if auto_class == model_class:  # loaded by name (a pipeline's component): no Auto mapping vouches for it
            _check_config_class(cls, built_config, config)
        with quiet_transformers(), torch.device("meta"), bounded_build(f"{config.path}: {model_class}",
                                                                      config.raw, _default_config(config)):
            module = cls._from_config(built_config)
            tie_as_loaded(module)
            return module
    except AmxError:
        raise
    except Exception as error:  # noqa: BLE001 - model constructors raise anything
        raise UnsupportedModelError(
            f"{model_class} could not be built on the meta device from {config.path}: {_one_line(error)}"
        ) from None


def _check_config_class(cls, built_config, config: ModelConfig) -> None:
    expected = cls.config_class  # a class of a missing backend raises ImportError here
    if isinstance(expected, type) and not isinstance(built_config, expected):
        raise UnsupportedModelError(f"{cls.__name__} takes a {expected.__name__}, not the "
                                    f"{type(built_config).__name__} of {config.path}")


def _default_config(config: ModelConfig):
    """The config class's defaults, to tell which field of an oversized config is to blame."""
    from transformers import CONFIG_MAPPING

    try:
        with quiet_transformers():
            return CONFIG_MAPPING[config.model_type]()
    except Exception:  # noqa: BLE001 - a few config classes cannot be built without arguments
        return None


def _instantiate_remote(auto_class: str, model_class: str, trust_remote_code: bool, local_dir):
    import torch

    if not trust_remote_code:
        raise UnsupportedModelError(
            f"{auto_class} of this model is repository code ({model_class}); amx does not import it by default",
            hint="pass --trust-remote-code if you trust the repository, with a local copy of it",
        )
    if local_dir is None:
        raise UnsupportedModelError(
            "repository code is only imported from a local directory",
            hint="download the repository (hf download ORG/NAME --local-dir DIR) and inspect DIR",
        )
    import transformers

    try:
        with quiet_transformers():
            built_config = transformers.AutoConfig.from_pretrained(str(local_dir), trust_remote_code=True)
            with torch.device("meta"), bounded_build(f"{local_dir}: {model_class}", {}, None):
                module = getattr(transformers, auto_class).from_config(built_config, trust_remote_code=True)
                tie_as_loaded(module)
                return module
    except AmxError:
        raise
    except Exception as error:  # noqa: BLE001 - repository code raises anything
        raise UnsupportedModelError(f"repository code {model_class} failed to build: {_one_line(error)}") from None


def describe(module, auto_class: str, model_class: str) -> MetaModel:
    """Names, shapes and dtypes of a built module; counts as `num_parameters()` does."""
    parameters = [
        TensorSpec(name, tuple(p.shape), dtype_name(p.dtype)) for name, p in module.named_parameters()
    ]
    persistent = set(module.state_dict().keys())
    buffers = [
        TensorSpec(name, tuple(b.shape), dtype_name(b.dtype), buffer=True)
        for name, b in module.named_buffers()
        if name in persistent
    ]
    embedding_ids = {id(m.weight) for m in _embedding_modules(module)}
    embedding_names = {name for name, p in module.named_parameters(remove_duplicate=False) if id(p) in embedding_ids}
    embedding_parameters = sum(p.numel() for p in module.parameters() if id(p) in embedding_ids)
    first = next(module.parameters(), None)
    return MetaModel(
        auto_class=auto_class,
        model_class=model_class,
        dtype=dtype_name(first.dtype) if first is not None else "F32",
        num_parameters=module.num_parameters() if hasattr(module, "num_parameters") else sum(
            p.numel() for p in module.parameters()),
        embedding_parameters=embedding_parameters,
        parameters=parameters + buffers,
        embedding_names=embedding_names,
        buffer_names={name for name, _ in module.named_buffers(remove_duplicate=False)},
        module=module,
    )


def _embedding_modules(module) -> list:
    import torch

    found = [m for m in module.modules() if isinstance(m, torch.nn.Embedding)]
    output = module.get_output_embeddings() if hasattr(module, "get_output_embeddings") else None
    if isinstance(getattr(output, "weight", None), torch.nn.Parameter):
        found.append(output)
    return found


def build_meta_model(config: ModelConfig, index: HeadIndex, head: str | None = None,
                     trust_remote_code: bool = False, local_dir=None) -> MetaModel:
    """The chosen head (default: native) of `config`, built on the meta device and described."""
    auto_class, model_class, remote = resolve_head(config, index, head)
    module = instantiate(config, auto_class, model_class, remote, trust_remote_code, local_dir)
    return describe(module, auto_class, model_class.rpartition(".")[2] if remote else model_class)
