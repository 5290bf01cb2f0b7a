"""Tiny real models (hidden size 32, 2 layers) of several families, saved with transformers itself."""

from __future__ import annotations

from pathlib import Path

# family -> (config class, config arguments, model classes to save a checkpoint with)
FAMILIES = {
    "bert": ("BertConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=37, max_position_embeddings=64, num_labels=3),
             ["BertForMaskedLM", "BertForSequenceClassification", "BertModel"]),
    "distilbert": ("DistilBertConfig", dict(vocab_size=99, dim=32, n_layers=2, n_heads=4, hidden_dim=37,
                                            max_position_embeddings=64),
                   ["DistilBertForMaskedLM"]),
    "gpt2": ("GPT2Config", dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64,
                                bos_token_id=0, eos_token_id=0),
             ["GPT2LMHeadModel"]),
    "t5": ("T5Config", dict(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4),
           ["T5ForConditionalGeneration"]),
    "bart": ("BartConfig", dict(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2,
                                encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=37,
                                decoder_ffn_dim=37, max_position_embeddings=64),
             ["BartForConditionalGeneration"]),
    "vit": ("ViTConfig", dict(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
                              num_attention_heads=4, intermediate_size=37, num_labels=3),
            ["ViTForImageClassification"]),
    "llama": ("LlamaConfig", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                  num_key_value_heads=2, intermediate_size=37, max_position_embeddings=64),
              ["LlamaForCausalLM"]),
    "wav2vec2": ("Wav2Vec2Config", dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                        intermediate_size=37, conv_dim=(32, 32), conv_stride=(4, 4),
                                        conv_kernel=(8, 8), num_conv_pos_embeddings=16,
                                        num_conv_pos_embedding_groups=2, classifier_proj_size=8, tdnn_dim=(8, 8),
                                        tdnn_kernel=(3, 3), tdnn_dilation=(1, 1), xvector_output_dim=8,
                                        num_labels=3),
                 ["Wav2Vec2ForCTC", "Wav2Vec2ForSequenceClassification"]),
}

CHECKPOINTS = [(family, model_class) for family, (_, _, classes) in FAMILIES.items() for model_class in classes]


def tiny_config(family: str, **overrides):
    import transformers

    config_class, arguments, _ = FAMILIES[family]
    return getattr(transformers, config_class)(**{**arguments, **overrides})


def save_tiny(model_class: str, config, directory: Path, dtype: str | None = None, **save_options) -> Path:
    """Build `model_class` with random weights (cast to `dtype`, a torch dtype name, when given) and save it
    with save_pretrained (safetensors by default)."""
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(config)
    if dtype is not None:
        model = model.to(getattr(torch, dtype))
    model.save_pretrained(directory, **save_options)
    return directory


def llama_variants(root: Path) -> dict[str, Path]:
    """A tiny Llama and what `amx diff` tells apart from it: a byte copy, the vocabulary grown to 120 and saved
    in bfloat16, and the same backbone with a sequence-classification head."""
    import shutil

    llama = save_tiny("LlamaForCausalLM", tiny_config("llama"), root / "llama")
    return {
        "llama": llama,
        "copy": Path(shutil.copytree(llama, root / "copy")),
        "resized": save_tiny("LlamaForCausalLM", tiny_config("llama", vocab_size=120), root / "resized", "bfloat16"),
        "classifier": save_tiny("LlamaForSequenceClassification", tiny_config("llama"), root / "classifier"),
    }
