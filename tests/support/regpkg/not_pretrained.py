"""Pitfall: the registered model class is a torch.nn.Module, not a PreTrainedModel (register accepts it)."""

import torch
from transformers import AutoConfig, AutoModel

from .good import NewModelConfig


class PlainConfig(NewModelConfig):
    model_type = "plain-model"


class PlainModel(torch.nn.Module):
    config_class = PlainConfig

    def __init__(self, config):
        super().__init__()
        self.embeddings = torch.nn.Embedding(config.vocab_size, config.hidden_size)


AutoConfig.register("plain-model", PlainConfig)
AutoModel.register(PlainConfig, PlainModel)
