"""Benchmark: `amx heads` against the plain transformers way, on every model in examples/.

The plain way is what a user writes today: import transformers, AutoConfig.from_pretrained, then
ask each Auto class whether its mapping accepts the config. Each side runs in a fresh process per
model, as a user would run it. Targets (issue 3): amx <= 0.2x the plain way and < 0.5 s wall.

Run: python bench/heads.py [--repeat N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile

from support import PLAIN_HEAD_COUNT, ROOT, environment, finish, median_run, parser, run, target

EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if (p / "config.json").is_file())

PLAIN = """
import sys
import transformers
from transformers import AutoConfig
config = AutoConfig.from_pretrained(sys.argv[1], trust_remote_code=False)
""" + PLAIN_HEAD_COUNT


def main() -> None:
    args = parser(__doc__, repeat="runs per model and side").parse_args()
    env = environment(HF_HUB_OFFLINE="1", AMX_CACHE_DIR=tempfile.mkdtemp(prefix="amx-bench-"))
    amx = [sys.executable, "-m", "automodel_cli", "heads", "--json"]
    first = run([*amx, str(EXAMPLES[0])], env).seconds
    print(f"first run (builds the head index once per transformers version): {first:.2f} s")

    remote_code = {"mpt-7b-instruct-remote"}  # the plain way would need trust_remote_code=True
    print(f"{'model':42} {'amx s':>8} {'plain s':>8} {'ratio':>6}")
    amx_times, plain_times = [], []
    for example in EXAMPLES:
        a = median_run([*amx, str(example)], env, args.repeat).seconds
        if example.name in remote_code:
            print(f"{example.name:42} {a:8.3f} {'-':>8} {'-':>6}  (plain way needs remote code)")
            continue
        p = median_run([sys.executable, "-c", PLAIN, str(example)], env, args.repeat).seconds
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
