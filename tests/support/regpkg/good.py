"""A correct registration: NewModelConfig as model_type "new-model", NewModel for AutoModel and
NewModelForSequenceClassification for AutoModelForSequenceClassification."""

import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
    PreTrainedConfig,
    PreTrainedModel,
)


class NewModelConfig(PreTrainedConfig):
    model_type = "new-model"
    vocab_size: int = 50
    hidden_size: int = 16
    num_layers: int = 2


class NewModelPreTrainedModel(PreTrainedModel):
    config_class = NewModelConfig
    base_model_prefix = "new_model"


class NewModel(NewModelPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embeddings = torch.nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(config.hidden_size, config.hidden_size) for _ in range(config.num_layers))
        self.post_init()

    def forward(self, input_ids):
        hidden = self.embeddings(input_ids)
        for layer in self.layers:
            hidden = torch.tanh(layer(hidden))
        return hidden


class NewModelForSequenceClassification(NewModelPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.new_model = NewModel(config)
        self.classifier = torch.nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids):
        return self.classifier(self.new_model(input_ids)[:, 0])


AutoConfig.register("new-model", NewModelConfig)
AutoModel.register(NewModelConfig, NewModel)
AutoModelForSequenceClassification.register(NewModelConfig, NewModelForSequenceClassification)
