"""Benchmark: `amx inspect` of a PEFT adapter and of a diffusers pipeline against loading them the plain way
(peft on top of transformers, diffusers' DiffusionPipeline), in bytes served and time, one run each.

The artefacts are made here with transformers, peft and diffusers (a LoRA on a ~25M-parameter Llama,
and a small Stable Diffusion pipeline), and served by a Hub-like HTTP server on 127.0.0.1 that counts
the bytes it sends. Every run is a fresh process with an empty Hugging Face cache. Both sides must
agree on the parameter counts. Targets: amx reads < 1% of the bytes and takes less time.

amx's first run imports torch and transformers to build the base model's head on the meta device; a
second run finds that build in amx's cache (bench/inspect_command.py measures the same for one model).

Run: python bench/shapes.py    (exits 1 when a target is missed)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from support import environment, finish, hub, run, stats, target

BASE, ADAPTER, PIPELINE = "amx-bench/llama-25m", "amx-bench/llama-25m-lora", "amx-bench/tiny-sd"

PLAIN_ADAPTER = """
import sys
import transformers
from peft import PeftModel
base = transformers.AutoModelForCausalLM.from_pretrained(sys.argv[1])
total = base.num_parameters()
model = PeftModel.from_pretrained(base, sys.argv[2])
print(total, sum(p.numel() for n, p in model.named_parameters() if ".lora_" in n))
"""
PLAIN_PIPELINE = """
import sys
from diffusers import DiffusionPipeline
pipeline = DiffusionPipeline.from_pretrained(sys.argv[1])
print(sum(sum(p.numel() for p in c.parameters()) for c in pipeline.components.values() if hasattr(c, "parameters")))
"""


def make_artefacts(root: Path) -> dict[str, Path]:
    import torch
    import transformers
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=8000, hidden_size=512, intermediate_size=1376, num_hidden_layers=6,
                                      num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=512)
    transformers.LlamaForCausalLM(config).save_pretrained(root / "base")
    base = transformers.AutoModelForCausalLM.from_pretrained(root / "base")
    lora = LoraConfig(task_type="CAUSAL_LM", r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
    get_peft_model(base, lora).save_pretrained(root / "adapter")
    config_path = root / "adapter" / "adapter_config.json"
    config_path.write_text(json.dumps({**json.loads(config_path.read_text()), "base_model_name_or_path": BASE}))

    vocabulary = {"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2, "a": 3}
    (root / "vocab.json").write_text(json.dumps(vocabulary))
    (root / "merges.txt").write_text("#version: 0.2\n")
    unet = UNet2DConditionModel(block_out_channels=(64, 128), layers_per_block=2, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=128,
                                norm_num_groups=32, attention_head_dim=8)
    vae = AutoencoderKL(block_out_channels=[64, 128], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        norm_num_groups=32)
    text_encoder = transformers.CLIPTextModel(transformers.CLIPTextConfig(
        vocab_size=1000, hidden_size=128, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
        max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1))
    tokenizer = transformers.CLIPTokenizer(str(root / "vocab.json"), str(root / "merges.txt"))
    StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=PNDMScheduler(),
                            safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(root / "pipeline")
    return {BASE: root / "base", ADAPTER: root / "adapter", PIPELINE: root / "pipeline"}


def measure(args: list[str], env: dict[str, str], endpoint: str) -> tuple[str, float, int]:
    """stdout, wall time and bytes served of one fresh process with an empty HF cache."""
    home = tempfile.mkdtemp(prefix="amx-bench-hf-")
    stats(endpoint)
    done = run([sys.executable, *args], {**env, "HF_HOME": home}, check=False)
    shutil.rmtree(home, ignore_errors=True)
    if done.returncode:
        sys.exit(f"{' '.join(args[:4])} failed: {done.stderr[-2000:]}")
    return done.stdout, done.seconds, stats(endpoint)["bytes"]


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="amx-bench-shapes-"))
    repos = make_artefacts(scratch)
    try:
        with hub(repos) as endpoint:
            env = environment(HF_ENDPOINT=endpoint, HF_HUB_OFFLINE="0", HF_HUB_DISABLE_PROGRESS_BARS="1",
                              AMX_CACHE_DIR=str(scratch / "amx-cache"))
            env.pop("HF_TOKEN", None)
            print(f"served on {endpoint}; fresh process and empty HF cache for every run, one run each\n")
            print(f"{'':44} {'seconds':>8} {'bytes':>12} {'parameters':>12}")
            rows = []
            amx_out, amx_s, amx_b = measure(["-m", "automodel_cli", "inspect", ADAPTER, "--json"], env, endpoint)
            report = json.loads(amx_out)
            plain_out, plain_s, plain_b = measure(["-c", PLAIN_ADAPTER, BASE, ADAPTER], env, endpoint)
            base_total, adapter_total = map(int, plain_out.split()[-2:])
            assert (report["total_parameters"], report["adapter"]["num_parameters"]) == (base_total, adapter_total)
            _, again_s, _ = measure(["-m", "automodel_cli", "inspect", ADAPTER, "--json"], env, endpoint)
            rows.append(("adapter", amx_s, amx_b, plain_s, plain_b, f"{adapter_total:,} on {base_total:,}",
                         "transformers from_pretrained + PeftModel", again_s))
            amx_out, amx_s, amx_b = measure(["-m", "automodel_cli", "inspect", PIPELINE, "--json"], env,
                                            endpoint)
            plain_out, plain_s, plain_b = measure(["-c", PLAIN_PIPELINE, PIPELINE], env, endpoint)
            total = json.loads(amx_out)["total_parameters"]
            assert total == int(plain_out.split()[-1]), (total, plain_out)
            _, again_s, _ = measure(["-m", "automodel_cli", "inspect", PIPELINE, "--json"], env, endpoint)
            rows.append(("pipeline", amx_s, amx_b, plain_s, plain_b, f"{total:,}",
                         "DiffusionPipeline.from_pretrained", again_s))
        for name, a_s, a_b, p_s, p_b, count, plain, again in rows:
            print(f"amx inspect ({name}){'':<{30 - len(name)}} {a_s:8.2f} {a_b:12,} {count:>12}")
            print(f"  again, the meta build remembered{'':11} {again:8.2f}")
            print(f"{plain:44} {p_s:8.2f} {p_b:12,}")
            print(f"  ratio amx/plain: time {a_s / p_s:.2f}x {target(f'{name} time', a_s / p_s, '<', 1.0, 'x')}, "
                  f"bytes {a_b / p_b:.4f}x {target(f'{name} bytes', a_b / p_b, '<', 0.01, 'x')}\n")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
