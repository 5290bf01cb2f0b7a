"""Benchmark: `amx check` on 100 local models against the plain transformers way.

The 100 models are the test corpus's (tests/corpus) config.json files, repeated (each copy a folder of its own)
and each given other heads to rely on, a native head and remote code forbidden. Targets (issue 6):
the 100 checked in under 10 s, each model after the first in under 50 ms. With max-parameters on
each (issue 13): the second run, which finds every meta build in amx's cache, under 1 s in all
(wall time, or CPU time when the shared machine is loaded). Exits 1 when a target is missed.

The plain way is what a CI script does today: import transformers, then per model
AutoConfig.from_pretrained and `type(config) in AutoXxx._model_mapping` for each head.
Both sides run in a fresh process, as CI runs them.

Run: python bench/check.py [--models N]
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from support import ROOT, Run, environment, finish, parser, run, target

CORPUS = ROOT / "tests" / "corpus"  # real config.json files, as the tests use them
HEADS = ["AutoModel", "AutoModelForCausalLM", "AutoModelForSequenceClassification",
         "AutoModelForTokenClassification", "AutoModelForMaskedLM", "AutoModelForQuestionAnswering",
         "AutoModelForImageClassification", "AutoModelForSeq2SeqLM"]

# check_models in-process: the time to the first result (imports, head index) and each model's own time.
AMX = """
import json, sys, time
start = time.perf_counter()
from automodel_cli import check_models
first = []
report = check_models(manifest=sys.argv[1], progress=lambda n, total, r: n == 1 and first.append(time.perf_counter() - start))
print(json.dumps({"first": first[0], "each": [r.seconds for r in report.models]}))
"""

PLAIN = """
import json, sys, time
start = time.perf_counter()
import transformers
from transformers import AutoConfig
from transformers.models.auto import modeling_auto
done, unsupported = [], 0
for line in open(sys.argv[1]):
    path, heads = json.loads(line)
    try:
        config = AutoConfig.from_pretrained(path, trust_remote_code=False)
        supported = [type(config) in getattr(modeling_auto, head)._model_mapping for head in heads]
    except Exception:
        unsupported += 1
    done.append(time.perf_counter() - start)
print(json.dumps({"first": done[0], "each": [b - a for a, b in zip(done, done[1:])], "unsupported": unsupported}))
"""


def build(workdir: Path, count: int) -> tuple[Path, Path]:
    """Copies of the corpus models, an amx.toml for them, and the same list for the plain script."""
    slugs = sorted(p.name for p in CORPUS.iterdir() if (p / "config.json").is_file())
    entries, plain = [], []
    for i in range(count):
        slug = slugs[i % len(slugs)]
        folder = workdir / "models" / f"{slug}-{i // len(slugs)}"
        folder.mkdir(parents=True)
        shutil.copy(CORPUS / slug / "config.json", folder / "config.json")
        heads = [HEADS[i % len(HEADS)], HEADS[(i * 3 + 1) % len(HEADS)]]
        native = f'native-head = "{heads[0]}"\n' if i % 4 == 0 else ""
        entries.append(f'[[models]]\nmodel = "models/{folder.name}"\nheads = {json.dumps(heads)}\n{native}'
                       'allow-remote-code = false\nmin-transformers = "5"\n')
        plain.append(json.dumps([str(folder), heads]))
    manifest = workdir / "amx.toml"
    manifest.write_text("\n".join(entries))
    # The same models with a size limit: parameters from the model built on the meta device (config only).
    (workdir / "sized.toml").write_text("\n".join(entry + 'max-parameters = "1T"\n' for entry in entries))
    (workdir / "plain.jsonl").write_text("\n".join(plain) + "\n")
    return manifest, workdir / "plain.jsonl"


def run_cli(manifest: Path, env: dict[str, str]) -> tuple[Run, dict]:
    """`amx check --json` in a fresh process (it exits 1 when a model fails), and its answer."""
    cli = run([sys.executable, "-m", "automodel_cli", "check", "--manifest", str(manifest), "--json"], env, check=False)
    return cli, json.loads(cli.stdout)


def run_code(code: str, argument: Path, env: dict[str, str]) -> tuple[float, dict]:
    done = run([sys.executable, "-c", code, str(argument)], env)
    return done.seconds, json.loads(done.stdout)


def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--models", type=int, default=100)
    args = arguments.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="amx-bench-check-"))
    env = environment(HF_HUB_OFFLINE="1", AMX_CACHE_DIR=str(workdir / "cache"))
    manifest, plain_list = build(workdir, args.models)
    # The head index, built once per transformers version.
    run([sys.executable, "-m", "automodel_cli", "heads", str(CORPUS / "gpt2")], env)

    cli, summary = run_cli(manifest, env)
    sized_run, sized = run_cli(workdir / "sized.toml", env)
    again_run, again = run_cli(workdir / "sized.toml", env)
    amx_seconds, amx = run_code(AMX, manifest, env)
    plain_seconds, plain = run_code(PLAIN, plain_list, env)
    shutil.rmtree(workdir, ignore_errors=True)

    amx_each, plain_each = amx["each"][1:], plain["each"]
    print(f"{args.models} models ({summary['passed']} pass, {summary['failed']} fail, {summary['errors']} "
          f"could not be checked; exit {cli.returncode})")
    print(f"amx check CLI, whole run:           {cli.seconds:6.2f} s   "
          f"{target('whole run', cli.seconds, '<', 10, 's')}")
    print(f"{'':36}{'amx':>9} {'plain':>9} {'ratio':>7}")
    print(f"{'process, all models':36}{amx_seconds:8.2f}s {plain_seconds:8.2f}s {amx_seconds / plain_seconds:7.3f}")
    print(f"{'first model (imports included)':36}{amx['first']:8.3f}s {plain['first']:8.3f}s "
          f"{amx['first'] / plain['first']:7.3f}")
    amx_median, plain_median = statistics.median(amx_each), statistics.median(plain_each)
    print(f"{'each model after the first, median':36}{amx_median * 1000:7.2f}ms {plain_median * 1000:7.2f}ms "
          f"{amx_median / plain_median:7.3f}")
    print(f"{'each model after the first, max':36}{max(amx_each) * 1000:7.2f}ms {max(plain_each) * 1000:7.2f}ms"
          f"   {target('each model after the first, max', max(amx_each) * 1000, '<', 50, 'ms')}")
    print(f"plain way: {plain['unsupported']} configs AutoConfig refused (remote code or unknown model_type)")
    each = sorted(model["seconds"] for model in sized["models"][1:])
    print(f"\nwith max-parameters (a meta-device build per config-only model, torch imported once): "
          f"{sized_run.seconds:.2f} s in all; after the first model, median {statistics.median(each) * 1000:.1f} ms, "
          f"max {each[-1] * 1000:.0f} ms, {sum(s > 0.05 for s in each)} over 50 ms; "
          f"{sized['errors']} could not be checked (repository code, unbuildable configs)")
    assert [m["checks"] for m in again["models"]] == [m["checks"] for m in sized["models"]]
    # On a loaded shared machine the wall time measures the neighbours.
    fastest = min(again_run.seconds, again_run.cpu)
    print(f"the same again, every meta build remembered: {again_run.seconds:.2f} s in all, {again_run.cpu:.2f} s "
          f"of CPU "
          f"({again_run.seconds / sized_run.seconds:.3f}x the first run) "
          f"{target('max-parameters second run (wall or CPU)', fastest, '<', 1, 's')}")
    finish()


if __name__ == "__main__":
    main()
