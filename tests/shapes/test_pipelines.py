"""diffusers pipelines: the components of model_index.json with their sizes, --subfolder for one component,
and no Auto heads (but no failure) for components of another library. Checked against the pipeline
diffusers itself loads (made at test time)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.preloaded import run_amx_preloaded

pytest.importorskip("diffusers")


@pytest.fixture(scope="session")
def pipeline_dir(tmp_path_factory) -> Path:
    """A tiny StableDiffusionPipeline: CLIP text encoder (transformers), UNet and VAE (diffusers), a PNDM
    scheduler and a CLIP tokenizer, saved by diffusers."""
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    root = tmp_path_factory.mktemp("pipeline")
    vocabulary = {"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2, "b</w>": 3, "a": 4, "b": 5}
    (root / "vocab.json").write_text(json.dumps(vocabulary))
    (root / "merges.txt").write_text("#version: 0.2\n")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=16, norm_num_groups=4, attention_head_dim=2)
    vae = AutoencoderKL(block_out_channels=[8, 16], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        norm_num_groups=4)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=99, hidden_size=16, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1))
    tokenizer = CLIPTokenizer(str(root / "vocab.json"), str(root / "merges.txt"))
    StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=PNDMScheduler(),
                            safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(root / "pipe")
    return root / "pipe"


@pytest.fixture(scope="session")
def loaded_sizes(pipeline_dir) -> dict[str, int]:
    """Parameters of each component as diffusers loads the pipeline."""
    from diffusers import DiffusionPipeline

    pipeline = DiffusionPipeline.from_pretrained(pipeline_dir)
    return {name: sum(p.numel() for p in component.parameters())
            for name, component in pipeline.components.items() if hasattr(component, "parameters")}


def amx_json(*args: str, env: dict | None = None) -> dict:
    result = run_amx_preloaded(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_inspect_lists_the_components_with_what_diffusers_loads(pipeline_dir, loaded_sizes):
    report = amx_json("inspect", str(pipeline_dir))
    components = {c["name"]: c for c in report["components"]}
    assert {name: (c["library"], c["class_name"]) for name, c in components.items()} == {
        "text_encoder": ("transformers", "CLIPTextModel"), "tokenizer": ("transformers", "CLIPTokenizer"),
        "unet": ("diffusers", "UNet2DConditionModel"), "vae": ("diffusers", "AutoencoderKL"),
        "scheduler": ("diffusers", "PNDMScheduler")}
    assert {name: c["num_parameters"] for name, c in components.items() if c["num_parameters"] is not None} == \
        loaded_sizes
    assert report["total_parameters"] == sum(loaded_sizes.values())
    assert components["unet"]["memory_bytes"]["bfloat16"] == 2 * loaded_sizes["unet"]
    assert report["head"] is None and report["adapter"] is None and report["modules"] is None


@pytest.mark.parametrize("saved_class", ["CLIPTextModelWithProjection", "CLIPTextModel"])
def test_a_config_only_component_is_built_as_the_class_the_pipeline_names(tmp_path, saved_class):
    """SDXL's text_encoder_2 is a CLIPTextModelWithProjection, which no Auto class maps: counted from its config,
    it must be that class (with its text_projection), as diffusers loads it, not AutoModel's CLIPTextModel."""
    import transformers

    config = transformers.CLIPTextConfig(vocab_size=99, hidden_size=16, intermediate_size=37, num_hidden_layers=2,
                                         num_attention_heads=2, projection_dim=8)
    pipe = tmp_path / "pipe"
    (pipe / "text_encoder_2").mkdir(parents=True)
    config.architectures = [saved_class]
    config.to_json_file(pipe / "text_encoder_2" / "config.json")
    (pipe / "model_index.json").write_text(json.dumps({
        "_class_name": "StableDiffusionXLPipeline", "text_encoder_2": ["transformers", saved_class]}))
    expected = getattr(transformers, saved_class)(config).num_parameters()
    report = amx_json("inspect", str(pipe))
    component = report["components"][0]
    assert component["num_parameters"] == report["total_parameters"] == expected
    assert f"counted from {saved_class} built from its config" in component["note"]
    projection = [t for t in report["parameters"] if t["name"] == "text_encoder_2.text_projection.weight"]
    assert len(projection) == (saved_class == "CLIPTextModelWithProjection")


def test_a_named_class_that_does_not_take_the_config_falls_back_to_the_auto_class(tmp_path):
    import transformers

    config = transformers.CLIPTextConfig(vocab_size=99, hidden_size=16, intermediate_size=37, num_hidden_layers=2,
                                         num_attention_heads=2)
    (tmp_path / "pipe" / "text_encoder").mkdir(parents=True)
    config.to_json_file(tmp_path / "pipe" / "text_encoder" / "config.json")
    (tmp_path / "pipe" / "model_index.json").write_text(json.dumps({"text_encoder": ["transformers", "BertModel"]}))
    component = amx_json("inspect", str(tmp_path / "pipe"))["components"][0]
    assert component["num_parameters"] == transformers.CLIPTextModel(config).num_parameters()
    assert "counted from CLIPTextModel built from its config (the pipeline loads BertModel)" in component["note"]


def test_inspect_human_shows_a_component_table(pipeline_dir):
    result = run_amx_preloaded("inspect", str(pipeline_dir))
    assert result.returncode == 0, result.stderr
    assert "StableDiffusionPipeline" in result.stdout and "UNet2DConditionModel" in result.stdout
    assert "no transformers Auto heads" in result.stdout


def test_subfolder_answers_for_one_component(pipeline_dir, loaded_sizes):
    heads = amx_json("heads", str(pipeline_dir), "--subfolder", "text_encoder")
    assert heads["model_type"] == "clip_text_model" and heads["native_head"] == "AutoModel"
    assert amx_json("inspect", str(pipeline_dir), "--subfolder", "text_encoder")["total_parameters"] == \
        loaded_sizes["text_encoder"]
    assert amx_json("inspect", str(pipeline_dir), "--subfolder", "unet")["total_parameters"] == loaded_sizes["unet"]
    source = run_amx_preloaded("source", "AutoModel", str(pipeline_dir), "--subfolder", "text_encoder", "--contract")
    assert source.returncode == 0 and "CLIPTextModel" in source.stdout


@pytest.mark.parametrize("subfolder", [None, "unet", "scheduler"])
def test_no_auto_heads_is_said_not_failed(pipeline_dir, subfolder):
    args = ["--subfolder", subfolder] if subfolder else []
    result = run_amx_preloaded("heads", str(pipeline_dir), *args)
    assert result.returncode == 0, result.stderr
    assert "Auto heads" in result.stdout
    assert amx_json("heads", str(pipeline_dir), *args)["heads"] == []
    doctor = run_amx_preloaded("doctor", str(pipeline_dir), *args, "--json")
    assert doctor.returncode == 1 and json.loads(doctor.stdout)["findings"][0]["code"] == "no-auto-heads"
    source = run_amx_preloaded("source", "AutoModel", str(pipeline_dir), *args)
    assert source.returncode == 1 and source.stderr.startswith("error: ") and "Auto heads" in source.stderr


def test_subfolder_that_escapes_or_does_not_exist(pipeline_dir):
    for subfolder, message in (("../pipe", "points outside the repository"), ("/etc", "points outside"),
                               ("no-such", "has no subfolder")):
        result = run_amx_preloaded("heads", str(pipeline_dir), "--subfolder", subfolder)
        assert result.returncode in (1, 2) and message in result.stderr and "Traceback" not in result.stderr


def test_check_names_pipeline_components(pipeline_dir, tmp_path):
    manifest = tmp_path / "amx.toml"
    manifest.write_text(f'''
[[models]]
model = "{pipeline_dir}"
subfolder = "text_encoder"
heads = ["AutoModel"]

[[models]]
model = "{pipeline_dir}"
subfolder = "unet"
max-parameters = "1M"

[[models]]
model = "{pipeline_dir}"
subfolder = "vae"
heads = ["AutoModel"]
''')
    result = run_amx_preloaded("check", "--manifest", str(manifest), "--json")
    assert result.returncode == 1, result.stderr
    statuses = [(m["status"], m["reason"]) for m in json.loads(result.stdout)["models"]]
    assert statuses[0] == ("pass", "") and statuses[1] == ("pass", "")
    assert statuses[2][0] == "fail" and "without transformers Auto heads" in statuses[2][1]


def test_through_the_local_hub(local_hub, pipeline_dir, loaded_sizes, tmp_path):
    local_hub.add_repo("amx-test/tiny-pipeline", pipeline_dir)
    env = local_hub.env(tmp_path)
    report = amx_json("inspect", "amx-test/tiny-pipeline", env=env)
    assert report["total_parameters"] == sum(loaded_sizes.values())
    heads = amx_json("heads", "amx-test/tiny-pipeline", "--subfolder", "text_encoder", env=env)
    assert heads["native_head"] == "AutoModel" and heads["model"] == "amx-test/tiny-pipeline/text_encoder"
    unet = run_amx_preloaded("heads", "amx-test/tiny-pipeline", "--subfolder", "unet", env=env)
    assert unet.returncode == 0 and "UNet2DConditionModel" in unet.stdout
    downloaded = [p.name for p in (tmp_path / "hub").glob("models--amx-test--tiny-pipeline/snapshots/*/**/*")
                  if p.is_file()]
    assert not any(name.endswith(".safetensors") for name in downloaded)
