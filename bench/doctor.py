"""Benchmark: `amx doctor` and `amx tasks` against the plain transformers way.

doctor: the plain way to learn what `from_pretrained` does is to run it (output_loading_info=True)
and read what it logs and raises. Both sides run in a fresh process per case, as a user would, on a
tiny and a bert-base-sized checkpoint (local: the plain way does not even pay for the download),
with the native head, another head, and a head that does not fit. With safetensors weights amx
builds the head on the meta device (importing torch too) to compare keys, so on a local checkpoint
it costs about what a real load costs; what it saves is the download of a Hub model's weights.
tasks: the plain way to learn which Auto classes a pipeline task loads is to import transformers'
pipelines and read SUPPORTED_TASKS.

Run: python bench/doctor.py [--repeat N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from support import environment, median_run, parser, run

HEADS = ["AutoModelForMaskedLM", "AutoModelForSequenceClassification", "AutoModelForImageClassification"]

PLAIN_LOAD = """
import sys
import transformers
try:
    getattr(transformers, sys.argv[2]).from_pretrained(sys.argv[1], output_loading_info=True)
except ValueError as error:
    print(error)
"""
PLAIN_TASK = """
from transformers.pipelines import SUPPORTED_TASKS
print([c.__name__ for c in SUPPORTED_TASKS["token-classification"]["pt"]])
"""


CHECKPOINT = """
import sys
from transformers import BertConfig, BertForMaskedLM
size = dict(tiny=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37, vocab_size=99),
            base=dict())[sys.argv[2]]  # base: bert-base-uncased's shape, 110M parameters, 440 MB in float32
BertForMaskedLM(BertConfig(**size)).save_pretrained(sys.argv[1])
"""


def checkpoint(size: str, env: dict[str, str]) -> Path:
    # In a subprocess, so this benchmark process never imports torch itself.
    directory = Path(tempfile.mkdtemp(prefix=f"amx-bench-{size}-"))
    subprocess.run([sys.executable, "-c", CHECKPOINT, str(directory), size], env=env, check=True, capture_output=True)
    return directory


def main() -> None:
    args = parser(__doc__, repeat="runs per case and side").parse_args()
    env = environment(HF_HUB_OFFLINE="1", AMX_CACHE_DIR=tempfile.mkdtemp(prefix="amx-bench-"))
    models = {size: checkpoint(size, env) for size in ("tiny", "base")}
    amx = [sys.executable, "-m", "automodel_cli"]
    first = run([*amx, "tasks"], env).seconds
    print(f"first run (builds the index once per transformers version): {first:.2f} s")

    print(f"{'case':56} {'amx s':>8} {'plain s':>8} {'ratio':>6}")
    ratios = []
    cases = [(f"doctor {size} --head {head}", [*amx, "doctor", str(model), "--head", head],
              [sys.executable, "-c", PLAIN_LOAD, str(model), head]) for size, model in models.items() for head in HEADS]
    cases.append(("tasks token-classification", [*amx, "tasks", "token-classification"],
                  [sys.executable, "-c", PLAIN_TASK]))
    for name, amx_cmd, plain_cmd in cases:  # doctor exits 1, and a plain load raises, when the head does not fit
        a = median_run(amx_cmd, env, args.repeat, check=False).seconds
        p = median_run(plain_cmd, env, args.repeat, check=False).seconds
        ratios.append(a / p)
        print(f"{name:56} {a:8.3f} {p:8.3f} {a / p:6.2f}")
    print(f"\nmean ratio amx / plain transformers: {statistics.mean(ratios):.2f}x")


if __name__ == "__main__":
    main()
