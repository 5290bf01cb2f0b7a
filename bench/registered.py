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

import subprocess
import sys
import tempfile

from support import PLAIN_HEAD_COUNT, ROOT, environment, finish, median_run, parser, run, target

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
config = AutoConfig.from_pretrained(sys.argv[1])
""" + PLAIN_HEAD_COUNT


def main() -> None:
    args = parser(__doc__, repeat="runs per side").parse_args()
    env = environment(HF_HUB_OFFLINE="1", AMX_CACHE_DIR=tempfile.mkdtemp(prefix="amx-bench-"))
    model = tempfile.mkdtemp(prefix="amx-bench-new-model-")
    subprocess.run([sys.executable, "-c", SAVE, model], env=env, check=True, capture_output=True, cwd=PROJECT)
    amx = [sys.executable, "-m", "automodel_cli", "heads", "--json"]
    run([*amx, str(ROOT / "examples" / "gpt2")], env, cwd=PROJECT)  # builds the cached index once

    registered = median_run([*amx, model, "--import", "regpkg.good"], env, args.repeat, cwd=PROJECT).seconds
    plain = median_run([sys.executable, "-c", PLAIN, model], env, args.repeat, cwd=PROJECT).seconds
    default = median_run([*amx, str(ROOT / "examples" / "gpt2")], env, args.repeat, cwd=PROJECT).seconds
    print(f"amx heads --import regpkg.good: {registered:.2f} s; plain transformers way: {plain:.2f} s; "
          f"ratio {registered / plain:.2f}x {target('ratio', registered / plain, '<=', 1.5, 'x')}")
    print(f"amx heads examples/gpt2 without --import (cached index, no transformers import): {default:.2f} s, "
          f"{default / plain:.2f}x the plain way {target('default path', default / plain, '<=', 0.2, 'x')}")
    finish()


if __name__ == "__main__":
    main()
