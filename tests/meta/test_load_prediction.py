"""The predicted loading report must equal what `from_pretrained(..., output_loading_info=True)` reports.

For every family in tests/support/tiny_models.py, a checkpoint is saved with each listed class and loaded with
every Auto head the config supports; the predicted missing, unexpected and mismatched keys must be the
sets transformers reports.
"""

from __future__ import annotations

import pytest
from support.tiny_models import CHECKPOINTS, save_tiny, tiny_config

from automodel_cli.files.config_reader import read_config
from automodel_cli.files.reference import parse_reference
from automodel_cli.formats.safetensors_header import read_headers
from automodel_cli.knowledge.head_index import load_index
from automodel_cli.knowledge.heads import heads_for_config
from automodel_cli.meta.load_prediction import predict_loading
from automodel_cli.meta.meta_build import build_meta_model, quiet_transformers


@pytest.fixture(scope="module")
def index():
    return load_index()


def checkpoint_tensors(directory):
    return read_headers(parse_reference(str(directory))).tensors


def predicted(directory, auto_class, index):
    meta = build_meta_model(read_config(directory / "config.json"), index, auto_class)
    prediction = predict_loading(meta.module, checkpoint_tensors(directory))
    mismatched = {(m.name, m.checkpoint_shape, m.model_shape) for m in prediction.mismatched_keys}
    return set(prediction.missing_keys), set(prediction.unexpected_keys), mismatched


def loaded(directory, auto_class, **options):
    import transformers

    with quiet_transformers():
        _, info = getattr(transformers, auto_class).from_pretrained(
            directory, output_loading_info=True, ignore_mismatched_sizes=True, **options)
    mismatched = {(name, tuple(saved), tuple(expected)) for name, saved, expected in info["mismatched_keys"]}
    return set(info["missing_keys"]), set(info["unexpected_keys"]), mismatched


@pytest.mark.parametrize(("family", "model_class"), CHECKPOINTS)
def test_prediction_equals_from_pretrained_for_every_head(family, model_class, tmp_path, index):
    directory = save_tiny(model_class, tiny_config(family), tmp_path / model_class)
    heads = [h.auto_class for h in heads_for_config(read_config(directory / "config.json"), index, "x").heads]
    assert len(heads) >= 3
    differences = {}
    for auto_class in heads:
        guess, truth = predicted(directory, auto_class, index), loaded(directory, auto_class)
        if guess != truth:
            differences[auto_class] = [sorted(map(str, g ^ t)) for g, t in zip(guess, truth)]
    assert differences == {}


def test_three_label_classifier_with_multiple_choice_head_is_a_mismatch(tmp_path, index):
    """BertForMultipleChoice has a 1-output `classifier`; the checkpoint's has 3: transformers refuses."""
    import transformers

    directory = save_tiny("BertForSequenceClassification", tiny_config("bert"), tmp_path / "seqcls")
    meta = build_meta_model(read_config(directory / "config.json"), index, "AutoModelForMultipleChoice")
    prediction = predict_loading(meta.module, checkpoint_tensors(directory))
    assert [(m.name, m.checkpoint_shape, m.model_shape) for m in prediction.mismatched_keys] == [
        ("classifier.bias", (3,), (1,)), ("classifier.weight", (3, 32), (1, 32))
    ]
    assert prediction.refused
    with quiet_transformers(), pytest.raises(RuntimeError, match="ignore_mismatched_sizes"):
        transformers.AutoModelForMultipleChoice.from_pretrained(directory)


def test_legacy_layernorm_names_are_renamed_like_transformers_does(tmp_path, index):
    """Old checkpoints spell LayerNorm parameters gamma/beta; transformers' conversion mapping renames them."""
    from safetensors.torch import load_file, save_file

    directory = save_tiny("BertForMaskedLM", tiny_config("bert"), tmp_path / "legacy")
    weights = load_file(directory / "model.safetensors")
    renamed = {name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): value
               for name, value in weights.items()}
    assert renamed.keys() != weights.keys()
    save_file(renamed, directory / "model.safetensors", metadata={"format": "pt"})
    for auto_class in ("AutoModelForMaskedLM", "AutoModel"):
        assert predicted(directory, auto_class, index) == loaded(directory, auto_class)


def test_tied_embeddings_are_not_missing(tmp_path, index):
    """A tied lm_head is not saved; loading ties it again, so it is not reported missing."""
    directory = save_tiny("LlamaForCausalLM", tiny_config("llama", tie_word_embeddings=True), tmp_path / "tied")
    names = {t.name for t in checkpoint_tensors(directory)}
    assert "lm_head.weight" not in names and "model.embed_tokens.weight" in names
    missing, unexpected, mismatched = predicted(directory, "AutoModelForCausalLM", index)
    assert (missing, unexpected, mismatched) == loaded(directory, "AutoModelForCausalLM") == (set(), set(), set())


def test_real_checkpoint_with_a_saved_position_ids_buffer(minilm, index):
    """all-MiniLM-L6-v2 saved `embeddings.position_ids` (a buffer, now non-persistent): silently dropped."""
    assert "embeddings.position_ids" in {t.name for t in checkpoint_tensors(minilm)}
    for auto_class in ("AutoModel", "AutoModelForSequenceClassification"):
        assert predicted(minilm, auto_class, index) == loaded(minilm, auto_class)
    meta = build_meta_model(read_config(minilm / "config.json"), index, "AutoModel")
    prediction = predict_loading(meta.module, checkpoint_tensors(minilm))
    assert prediction.not_parameters == {"embeddings.position_ids"}


def test_keys_to_ignore_on_load_unexpected(tmp_path, index):
    """A stale key the class declares it may ignore is neither unexpected nor counted as a parameter."""
    from safetensors.torch import load_file, save_file

    directory = save_tiny("GPT2LMHeadModel", tiny_config("gpt2"), tmp_path / "gpt2")
    weights = load_file(directory / "model.safetensors")
    import torch

    weights["transformer.h.0.attn.bias"] = torch.ones(1, 1, 64, 64).tril()  # the causal mask GPT-2 used to save
    save_file(weights, directory / "model.safetensors", metadata={"format": "pt"})
    assert predicted(directory, "AutoModelForCausalLM", index) == loaded(directory, "AutoModelForCausalLM")
    meta = build_meta_model(read_config(directory / "config.json"), index, "AutoModelForCausalLM")
    assert "transformer.h.0.attn.bias" in predict_loading(meta.module, checkpoint_tensors(directory)).not_parameters
