"""Benchmark: a fresh virtualenv to the first answer of `amx heads examples/bert-base-uncased`, plain install
against the full one (torch), in one run.

Each side: `python -m venv`, `pip install` of this checkout (plain: `.`; full: the CPU torch and
`.[torch]`), then the first `amx heads` (which builds the head index). Printed: the install's size on disk
(`du` of the virtualenv), the seconds to install, to the first answer, and in all. Targets (issue 26): the
plain install pulls no torch and takes < 400 MB.

Run: python bench/install.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from support import ROOT, environment, finish, parser, run, target

SIDES = {
    "plain": ["."],
    "torch": ["torch==2.13.0", ".[torch]"],  # torch pinned: an unpinned one is the multi-GB CUDA build
}


def _size_mb(folder: Path) -> float:
    return int(subprocess.run(["du", "-sm", str(folder)], capture_output=True, text=True, check=True)
               .stdout.split()[0])


def main() -> None:
    parser(__doc__).parse_args()
    print(f"{'install':8} {'size MB':>8} {'install s':>10} {'first answer s':>15} {'total s':>8}  torch")
    for side, packages in SIDES.items():
        with tempfile.TemporaryDirectory(prefix=f"amx-bench-{side}-") as scratch:
            venv = Path(scratch) / "venv"
            env = environment(AMX_CACHE_DIR=str(Path(scratch) / "cache"), HF_HUB_OFFLINE="1")
            env.pop("PYTHONPATH")  # the installed amx answers, not this checkout's sources
            created = run([sys.executable, "-m", "venv", str(venv)], env)
            python = str(venv / "bin" / "python")
            installed = run([python, "-m", "pip", "install", "--quiet", "-c", str(ROOT / ".ci" / "newest.txt"),
                             *packages], env, cwd=ROOT)
            answer = run([str(venv / "bin" / "amx"), "heads", "examples/bert-base-uncased"], env, cwd=ROOT)
            assert "native head: AutoModelForMaskedLM" in answer.stdout, answer.stdout + answer.stderr
            has_torch = run([python, "-c", "import importlib.util as u; print(u.find_spec('torch') is not None)"],
                            env).stdout.strip()
            size = _size_mb(venv)
            install = created.seconds + installed.seconds
            shown = f"{side:8} {size:8.0f} {install:10.1f} {answer.seconds:15.2f} {install + answer.seconds:8.1f}  {has_torch}"
            if side == "plain":
                shown += f"  {target('plain install size', size, '<', 400, 'MB')}"
            print(shown)
            if side == "plain" and has_torch != "False":
                sys.exit("the plain install pulled torch")
    finish()


if __name__ == "__main__":
    main()
