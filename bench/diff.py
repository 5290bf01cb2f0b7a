"""Benchmark: `amx diff` of two Llama-3.1-405B-shaped checkpoints against two `amx inspect` runs.

Both checkpoints are written by bench/support.py (real headers, sparse shards: 191 each); B's config.json
has another max_position_embeddings, so the diff has a config field to report and the same tensors. Each
side runs in fresh processes: `amx diff A B --json` against `amx inspect A --json` then `amx inspect B
--json`, with amx's meta cache emptied before each side (first runs: torch and transformers imported for
the head's build) and then warm (second runs: nothing heavy imported). Target (issue 23): the diff costs
no more than the two inspect runs, <= 1.0x (the better of the wall and CPU ratios, as the machine is shared).

Run: python bench/diff.py    (exits 1 when a target is missed)
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from support import LLAMA_405B_PARAMETERS, Run, environment, finish, parser, run, target, write_llama_405b


def _amx(*args: str) -> list[str]:
    return [sys.executable, "-m", "automodel_cli", *args, "--json"]


def _both_inspects(a: Path, b: Path, env: dict[str, str]) -> Run:
    first, second = run(_amx("inspect", str(a)), env), run(_amx("inspect", str(b)), env)
    for done in (first, second):
        assert json.loads(done.stdout)["total_parameters"] == LLAMA_405B_PARAMETERS
    return Run("", "", 0, first.seconds + second.seconds, first.cpu + second.cpu)


def _diff(a: Path, b: Path, env: dict[str, str]) -> Run:
    done = run(_amx("diff", str(a), str(b)), env, check=False)
    data = json.loads(done.stdout)
    assert done.returncode == 1 and data["parameters"] == {"a": LLAMA_405B_PARAMETERS, "b": LLAMA_405B_PARAMETERS}
    assert [c["field"] for c in data["config"]] == ["max_position_embeddings"] and data["tensors"]["changed"] == []
    return done


def main() -> None:
    arguments = parser(__doc__, "fresh runs per side and cache state").parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="amx-bench-diff-"))
    env = environment(AMX_CACHE_DIR=str(scratch / "amx-cache"), HF_HOME=str(scratch / "hf-home"), HF_HUB_OFFLINE="1")
    env.pop("HF_TOKEN", None)
    try:
        a, b = scratch / "A", scratch / "B"
        write_llama_405b(a)
        write_llama_405b(b)
        config = json.loads((b / "config.json").read_text())
        (b / "config.json").write_text(json.dumps({**config, "max_position_embeddings": 8192}, indent=2))
        run(_amx("heads", str(a)), env)  # build the head index once, outside the clocks
        figures: dict[str, list[Run]] = {side: [] for side in ("inspect A + B, first", "diff A B, first",
                                                              "inspect A + B, second", "diff A B, second")}
        for _ in range(arguments.repeat):
            for measure, cold, warm in ((_both_inspects, "inspect A + B, first", "inspect A + B, second"),
                                        (_diff, "diff A B, first", "diff A B, second")):
                shutil.rmtree(scratch / "amx-cache" / "meta", ignore_errors=True)
                figures[cold].append(measure(a, b, env))
                figures[warm].append(measure(a, b, env))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    medians = {side: (statistics.median(r.seconds for r in runs), statistics.median(r.cpu for r in runs))
               for side, runs in figures.items()}
    print(f"amx diff of two 405B checkpoints (191 shards each, local) against two amx inspect runs, "
          f"median of {arguments.repeat}")
    print(f"   {'':28} {'wall s':>7} {'CPU s':>7} {'ratio wall':>11} {'ratio CPU':>10}")
    for run_name in ("first", "second"):
        base_wall, base_cpu = medians[f"inspect A + B, {run_name}"]
        wall, cpu = medians[f"diff A B, {run_name}"]
        print(f"   {'inspect A + inspect B, ' + run_name:28} {base_wall:7.2f} {base_cpu:7.2f}")
        goal = target(f"diff, {run_name} run", min(wall / base_wall, cpu / base_cpu), "<=", 1.0, "x")
        print(f"   {'diff A B, ' + run_name:28} {wall:7.2f} {cpu:7.2f} {wall / base_wall:10.2f}x "
              f"{cpu / base_cpu:9.2f}x {goal}")
    finish()


if __name__ == "__main__":
    main()
