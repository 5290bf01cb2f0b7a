"""Benchmark: `amx source` against the plain transformers way, on examples/ models and their native heads.

The plain way is what a user writes today: AutoConfig.from_pretrained, the Auto class's mapping for
the config, then inspect.getsource of __init__ and forward. Both import transformers and one model
module, so amx cannot be much faster; the target is that its extras (name resolution, the head
index, the contract) cost little: amx <= 1.5x the plain way. Each side runs in a fresh process.

Run: python bench/source.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

from heads import ROOT, timed  # bench/heads.py: same machine, same way of timing a fresh process
from targets import finish, target  # bench/targets.py: a missed target exits 1

CASES = [  # (example, Auto class)
    ("bert-base-uncased", "AutoModelForMaskedLM"),
    ("distilbert-base-uncased-distilled-squad", "AutoModelForQuestionAnswering"),
    ("gpt2", "AutoModelForCausalLM"),
    ("llama-3-8b", "AutoModelForCausalLM"),
    ("t5-small", "AutoModelForSeq2SeqLM"),
    ("vit-base-patch16-224", "AutoModelForImageClassification"),
    ("whisper-medium", "AutoModelForSpeechSeq2Seq"),
]

PLAIN = """
import inspect, sys
import transformers
from transformers import AutoConfig
config = AutoConfig.from_pretrained(sys.argv[1])
cls = getattr(transformers, sys.argv[2])._model_mapping[type(config)]
print(inspect.getsource(cls.__init__) + inspect.getsource(cls.forward))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per model and side (median is kept)")
    repeat = parser.parse_args().repeat
    amx = [sys.executable, "-m", "automodel_cli", "source"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "AMX_CACHE_DIR": tempfile.mkdtemp(prefix="amx-bench-")}
    timed([*amx, CASES[0][1], str(ROOT / "examples" / CASES[0][0])], env)  # builds the head index once

    print(f"{'model':42} {'Auto class':34} {'amx s':>7} {'plain s':>8} {'ratio':>6}")
    ratios = []
    for example, auto_class in CASES:
        model = str(ROOT / "examples" / example)
        a = statistics.median(timed([*amx, auto_class, model], env) for _ in range(repeat))
        p = statistics.median(timed([sys.executable, "-c", PLAIN, model, auto_class], env) for _ in range(repeat))
        ratios.append(a / p)
        print(f"{example:42} {auto_class:34} {a:7.2f} {p:8.2f} {a / p:6.2f}")
    mean = statistics.mean(ratios)
    print(f"\nmean ratio amx / plain transformers: {mean:.2f}x {target('mean ratio', mean, '<=', 1.5, 'x')}")
    finish()


if __name__ == "__main__":
    main()
