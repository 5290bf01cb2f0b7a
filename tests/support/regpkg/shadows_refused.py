"""Pitfall: registering transformers' own model_type "bert" without exist_ok=True (AutoConfig.register raises)."""

from transformers import AutoConfig, BertConfig


class MyBertConfig(BertConfig):
    model_type = "bert"


AutoConfig.register("bert", MyBertConfig)
