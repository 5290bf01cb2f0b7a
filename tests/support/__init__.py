"""What the tests share: paths, the real entry point in a subprocess, and test data that several files use.

Test files import from here (and the modules beside it: tiny_models, gguf_files, localhub, hostile), never
from conftest.py or from each other. The programs run as subprocesses (hostile_runner.py, size_fuzz.py,
localhub.py) and the project registered by `--import` tests (regpkg/) live here too.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent
PROJECT_ROOT = SUPPORT.parents[1]
EXAMPLES = PROJECT_ROOT / "examples"
# Real config.json files of public repositories (byte copies; MANIFEST.tsv names each source and commit).
CORPUS = PROJECT_ROOT / "tests" / "corpus"


def corpus_slugs() -> list[str]:
    """Slugs of the corpus configs (folders holding a config.json)."""
    return sorted(p.name for p in CORPUS.iterdir() if (p / "config.json").is_file())


def peak_rss_mib() -> float:
    """This process's peak resident memory since it started its program. Not getrusage's ru_maxrss, which
    Linux carries over from the parent at exec: run from a 1.5 GB pytest process, every child reported 1.5 GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_amx(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None,
            input_text: str | None = None, python: str | None = None):
    """Run the real entry point (`python -m automodel_cli`) in a subprocess, with `input_text` piped in;
    `python`: another environment's interpreter (default: this one)."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run(
        [python or sys.executable, "-m", "automodel_cli", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd, input=input_text,
    )


@contextlib.contextmanager
def unconnectable_endpoint():
    """An endpoint that never completes a connection, like a host that drops packets: a listening socket
    whose accept queue is full, so the kernel drops every further connection attempt (loopback only)."""
    with socket.socket() as server, contextlib.ExitStack() as stack:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        for _ in range(3):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(server.getsockname())
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


# A Llama 3.1 405B config: the largest common model, for tests of size and speed.
LLAMA_405B = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 16384, "intermediate_size": 53248,
    "num_hidden_layers": 126, "num_attention_heads": 128, "num_key_value_heads": 8, "vocab_size": 128256,
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": False,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "torch_dtype": "bfloat16",
}

# (corpus slug, Auto class, concrete class): one head per family, text, vision, audio, multimodal.
SOURCE_FAMILIES = [
    ("bert-base-uncased-seqcls-tv4.5", "AutoModelForSequenceClassification", "BertForSequenceClassification"),
    ("distilbert-base-uncased-distilled-squad", "AutoModelForQuestionAnswering", "DistilBertForQuestionAnswering"),
    ("gpt2", "AutoModelForCausalLM", "GPT2LMHeadModel"),
    ("llama-2-7b-hf", "AutoModelForCausalLM", "LlamaForCausalLM"),
    ("llama-2-7b-hf", "AutoModelForQuestionAnswering", "LlamaForQuestionAnswering"),
    ("t5-small", "AutoModelForSeq2SeqLM", "T5ForConditionalGeneration"),
    ("vit-base-patch16-224", "AutoModelForImageClassification", "ViTForImageClassification"),
    ("whisper-medium-finetuned", "AutoModelForSpeechSeq2Seq", "WhisperForConditionalGeneration"),
    ("wav2vec2-lv60-espeak-ctc-finetuned", "AutoModelForCTC", "Wav2Vec2ForCTC"),
    ("detr-resnet-50", "AutoModelForObjectDetection", "DetrForObjectDetection"),
    ("qwen2.5-vl-7b-instruct-copy", "AutoModelForImageTextToText", "Qwen2_5_VLForConditionalGeneration"),
]
