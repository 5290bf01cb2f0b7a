"""Benchmark: `amx heads` against the plain transformers way, on every model in examples/.

The plain way is what a user writes today: import transformers, AutoConfig.from_pretrained, then
ask each Auto class whether its mapping accepts the config. Each side runs in a fresh process per
model, as a user would run it. Targets (issue 3): amx <= 0.2x the plain way and < 0.5 s wall.

Run: python bench/heads.py [--repeat N]
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
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "config.json").is_file())

PLAIN = """
import sys
import transformers
from transformers import AutoConfig
from transformers.models.auto import modeling_auto
from transformers.models.auto.auto_factory import _BaseAutoModelClass
config = AutoConfig.from_pretrained(sys.argv[1], trust_remote_code=False)
autos = [v for n, v in vars(modeling_auto).items() if n.startswith("Auto") and isinstance(v, type)
         and issubclass(v, _BaseAutoModelClass) and getattr(v, "_model_mapping", None) is not None]
print(sum(type(config) in auto._model_mapping for auto in autos))
"""


def timed(cmd: list[str], env: dict[str, str], check: bool = True) -> float:
    """Wall time of a fresh process; check=False for commands whose non-zero exit is their answer."""
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=check, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per model and side (median is kept)")
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "AMX_CACHE_DIR": tempfile.mkdtemp(prefix="amx-bench-")}
    amx = [sys.executable, "-m", "automodel_cli", "heads", "--json"]
    first = timed([*amx, str(EXAMPLES[0])], env)
    print(f"first run (builds the head index once per transformers version): {first:.2f} s")

    remote_code = {"mpt-7b-instruct-remote"}  # the plain way would need trust_remote_code=True
    print(f"{'model':42} {'amx s':>8} {'plain s':>8} {'ratio':>6}")
    amx_times, plain_times = [], []
    for example in EXAMPLES:
        a = statistics.median(timed([*amx, str(example)], env) for _ in range(args.repeat))
        if example.name in remote_code:
            print(f"{example.name:42} {a:8.3f} {'-':>8} {'-':>6}  (plain way needs remote code)")
            continue
        p = statistics.median(timed([sys.executable, "-c", PLAIN, str(example)], env) for _ in range(args.repeat))
        amx_times.append(a)
        plain_times.append(p)
        print(f"{example.name:42} {a:8.3f} {p:8.3f} {a / p:6.2f}")
    a, p = statistics.mean(amx_times), statistics.mean(plain_times)
    print(f"\nmean per model: amx {a:.3f} s, plain transformers {p:.3f} s, ratio {a / p:.2f}x "
          f"{target('mean ratio', a / p, '<=', 0.20, 'x')}; amx max {max(amx_times):.3f} s "
          f"{target('amx max', max(amx_times), '<', 0.5, 's')}")
    finish()


if __name__ == "__main__":
    main()
