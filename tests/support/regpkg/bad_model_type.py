"""Pitfall: the config class's model_type differs from the key it is registered under (AutoConfig.register raises)."""

from transformers import AutoConfig, PreTrainedConfig


class MistypedConfig(PreTrainedConfig):
    model_type = "mistyped_model"


AutoConfig.register("mistyped-model", MistypedConfig)
