"""Benchmark: `amx heads --import MODULE` for a model a project registers with the Auto classes, against
the plain transformers way, and the default path (no --import) beside it.

The project is tests/support/regpkg (good.py registers "new-model" with AutoModel and
AutoModelForSequenceClassification). The plain way imports the same module, reads the config with
AutoConfig and asks each Auto class whether its mapping accepts it. Both import transformers (the
module does), so amx cannot be much faster; the target is that reading the live mappings costs
little on top. Each side runs in a fresh process, from tests/support/ as a user runs it from their project.

Run: python bench/registered.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support import finish, target  # a missed target exits 1

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "tests" / "support"

SAVE = """
import sys
import regpkg.good
regpkg.good.NewModelForSequenceClassification(regpkg.good.NewModelConfig()).save_pretrained(sys.argv[1])
"""
PLAIN = """
import sys
import regpkg.good
from transformers import AutoConfig
from transformers.models.auto import modeling_auto
from transformers.models.auto.auto_factory import _BaseAutoModelClass
config = AutoConfig.from_pretrained(sys.argv[1])
autos = [v for n, v in vars(modeling_auto).items() if n.startswith("Auto") and isinstance(v, type)
         and issubclass(v, _BaseAutoModelClass) and getattr(v, "_model_mapping", None) is not None]
print(sum(type(config) in auto._model_mapping for auto in autos))
"""


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=PROJECT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per side (median is kept)")
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "AMX_CACHE_DIR": tempfile.mkdtemp(prefix="amx-bench-")}
    model = tempfile.mkdtemp(prefix="amx-bench-new-model-")
    subprocess.run([sys.executable, "-c", SAVE, model], env=env, check=True, capture_output=True, cwd=PROJECT)
    amx = [sys.executable, "-m", "automodel_cli", "heads", "--json"]
    timed([*amx, str(ROOT / "examples" / "gpt2")], env)  # builds the cached index once

    registered = statistics.median(timed([*amx, model, "--import", "regpkg.good"], env) for _ in range(args.repeat))
    plain = statistics.median(timed([sys.executable, "-c", PLAIN, model], env) for _ in range(args.repeat))
    default = statistics.median(timed([*amx, str(ROOT / "examples" / "gpt2")], env) for _ in range(args.repeat))
    print(f"amx heads --import regpkg.good: {registered:.2f} s; plain transformers way: {plain:.2f} s; "
          f"ratio {registered / plain:.2f}x {target('ratio', registered / plain, '<=', 1.5, 'x')}")
    print(f"amx heads examples/gpt2 without --import (cached index, no transformers import): {default:.2f} s, "
          f"{default / plain:.2f}x the plain way {target('default path', default / plain, '<=', 0.2, 'x')}")
    finish()


if __name__ == "__main__":
    main()
