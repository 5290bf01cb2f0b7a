"""Pitfall: the model class's config_class is another class than the registered config class, here a
configuration class of another name (AutoModel.register raises)."""

from transformers import AutoConfig, AutoModel

from .good import NewModel, NewModelConfig


class OtherConfig(NewModelConfig):
    model_type = "other-model"


class OtherModel(NewModel):
    config_class = NewModelConfig  # should be OtherConfig


AutoConfig.register("other-model", OtherConfig)
AutoModel.register(OtherConfig, OtherModel)
