"""Pitfall: the model class's config_class is a copy of the registered config class (same name, other
class), as when a modeling file keeps its own copy of the configuration. transformers' check compares
names only, so the registration passes; the model class then reads configurations with the copy."""

from transformers import AutoConfig, AutoModel

from . import copied_configuration
from .good import NewModel, NewModelConfig


class CopiedConfig(NewModelConfig):
    model_type = "copied-model"


class CopiedModel(NewModel):
    config_class = copied_configuration.CopiedConfig  # should be CopiedConfig above, the registered one


AutoConfig.register("copied-model", CopiedConfig)
AutoModel.register(CopiedConfig, CopiedModel)
