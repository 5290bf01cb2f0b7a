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

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from inspect_headers import _HubHandler  # noqa: E402 - the Range-capable Hub server
from support import finish, target  # noqa: E402 - a missed target exits 1

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


class _Hub(_HubHandler):
    """inspect_headers' Hub for any number of repositories with subfolders: a repository's file list and tree,
    and its files with HEAD and Range; counts the bytes of every response body."""

    repos: dict[str, Path] = {}

    def do_GET(self) -> None:
        path = urllib.request.unquote(self.path.split("?")[0])
        if path == "/_stats":
            with self.lock:
                body, type(self).sent = json.dumps({"bytes": type(self).sent}).encode(), 0
            return self._send(200, {"Content-Length": str(len(body))}, body)
        if tree := re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/[^/]+", path):
            root = self.repos.get(tree.group(1))
            entries = [{"type": "file", "path": str(p.relative_to(root)), "size": p.stat().st_size,
                        "oid": hashlib.sha1(str(p).encode()).hexdigest()}
                       for p in sorted(root.rglob("*")) if p.is_file()] if root else []
            body = json.dumps(entries).encode()
            return self._send(200 if root else 404, {"Content-Type": "application/json",
                                                     "Content-Length": str(len(body))}, body)
        if info := re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/[^/]+)?", path):
            root = self.repos.get(info.group(1))
            if root is None:
                return self._send(404, {"Content-Length": "0"})
            siblings = [{"rfilename": str(p.relative_to(root)), "size": p.stat().st_size}
                        for p in sorted(root.rglob("*")) if p.is_file()]
            body = json.dumps({"id": info.group(1), "sha": "0" * 40, "siblings": siblings}).encode()
            return self._send(200, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body)
        match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/[^/]+/(.+)", path)
        root = self.repos.get(match.group(1)) if match else None
        self._send_file(root / match.group(2) if root and ".." not in match.group(2) else None)


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


def served(endpoint: str) -> int:
    with urllib.request.urlopen(endpoint + "/_stats") as response:
        return json.loads(response.read())["bytes"]


def run(args: list[str], env: dict[str, str], endpoint: str) -> tuple[str, float, int]:
    """stdout, wall time and bytes served of one fresh process with an empty HF cache."""
    home = tempfile.mkdtemp(prefix="amx-bench-hf-")
    served(endpoint)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, *args], env={**env, "HF_HOME": home}, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    shutil.rmtree(home, ignore_errors=True)
    if result.returncode:
        sys.exit(f"{' '.join(args[:4])} failed: {result.stderr[-2000:]}")
    return result.stdout, seconds, served(endpoint)


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="amx-bench-shapes-"))
    _Hub.repos = make_artefacts(scratch)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_ENDPOINT": endpoint, "HF_HUB_OFFLINE": "0",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1", "AMX_CACHE_DIR": str(scratch / "amx-cache")}
    env.pop("HF_TOKEN", None)
    try:
        print(f"served on {endpoint}; fresh process and empty HF cache for every run, one run each\n")
        print(f"{'':44} {'seconds':>8} {'bytes':>12} {'parameters':>12}")
        rows = []
        amx_out, amx_s, amx_b = run(["-m", "automodel_cli", "inspect", ADAPTER, "--json"], env, endpoint)
        report = json.loads(amx_out)
        plain_out, plain_s, plain_b = run(["-c", PLAIN_ADAPTER, BASE, ADAPTER], env, endpoint)
        base_total, adapter_total = map(int, plain_out.split()[-2:])
        assert (report["total_parameters"], report["adapter"]["num_parameters"]) == (base_total, adapter_total)
        _, again_s, _ = run(["-m", "automodel_cli", "inspect", ADAPTER, "--json"], env, endpoint)
        rows.append(("adapter", amx_s, amx_b, plain_s, plain_b, f"{adapter_total:,} on {base_total:,}",
                     "transformers from_pretrained + PeftModel", again_s))
        amx_out, amx_s, amx_b = run(["-m", "automodel_cli", "inspect", PIPELINE, "--json"], env, endpoint)
        plain_out, plain_s, plain_b = run(["-c", PLAIN_PIPELINE, PIPELINE], env, endpoint)
        total = json.loads(amx_out)["total_parameters"]
        assert total == int(plain_out.split()[-1]), (total, plain_out)
        _, again_s, _ = run(["-m", "automodel_cli", "inspect", PIPELINE, "--json"], env, endpoint)
        rows.append(("pipeline", amx_s, amx_b, plain_s, plain_b, f"{total:,}", "DiffusionPipeline.from_pretrained",
                     again_s))
        for name, a_s, a_b, p_s, p_b, count, plain, again in rows:
            print(f"amx inspect ({name}){'':<{30 - len(name)}} {a_s:8.2f} {a_b:12,} {count:>12}")
            print(f"  again, the meta build remembered{'':11} {again:8.2f}")
            print(f"{plain:44} {p_s:8.2f} {p_b:12,}")
            print(f"  ratio amx/plain: time {a_s / p_s:.2f}x {target(f'{name} time', a_s / p_s, '<', 1.0, 'x')}, "
                  f"bytes {a_b / p_b:.4f}x {target(f'{name} bytes', a_b / p_b, '<', 0.01, 'x')}\n")
    finally:
        server.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
