"""Pitfall: a registration that replaces transformers' own model_type "bert" (exist_ok=True)."""

from transformers import AutoConfig, AutoModel, BertConfig, BertModel


class MyBertConfig(BertConfig):
    model_type = "bert"


class MyBertModel(BertModel):
    config_class = MyBertConfig


AutoConfig.register("bert", MyBertConfig, exist_ok=True)
AutoModel.register(MyBertConfig, MyBertModel, exist_ok=True)
