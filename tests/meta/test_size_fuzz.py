"""Absurd but well-typed sizes for every model type transformers knows (tests/support/size_fuzz.py): every
command ends within 10 s and 1 GB with an answer or one clear error line, never a traceback or a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import PROJECT_ROOT, SUPPORT

BATCHES = 2  # one process per batch, one batch per core
CASE_SECONDS = 10
PEAK_RSS_MIB = 1024


def _run_batch(cases: list[dict], work: Path) -> list[dict]:
    work.mkdir()
    (work / "cases.json").write_text(json.dumps(cases))
    env = {**os.environ, "PYTHONPATH": f"{PROJECT_ROOT}{os.pathsep}{SUPPORT.parent}", "HOME": str(work)}
    try:
        proc = subprocess.run([sys.executable, str(SUPPORT / "size_fuzz.py"), str(work / "cases.json"),
                               str(work / "models")], capture_output=True, text=True, env=env, timeout=900)
    except subprocess.TimeoutExpired as timeout:
        proc = subprocess.CompletedProcess(timeout.cmd, -9, timeout.stdout or "", timeout.stderr or "")
        proc.stdout = proc.stdout.decode() if isinstance(proc.stdout, bytes) else proc.stdout
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    results = [line for line in lines if "exit_code" in line]
    if len(results) < len(cases):  # the process hung or died: name the case it was on
        stuck = cases[len(results)]
        pytest.fail(f"the batch stopped at {stuck} (exit {proc.returncode}): {str(proc.stderr)[-2000:]}")
    return results


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> list[dict]:
    from support.size_fuzz import build_cases

    cases = build_cases()
    root = tmp_path_factory.mktemp("size-fuzz")
    with ThreadPoolExecutor(BATCHES) as pool:
        batches = pool.map(lambda n: _run_batch(cases[n::BATCHES], root / f"batch-{n}"), range(BATCHES))
        found = [result for batch in batches for result in batch]
    slowest = max(found, key=lambda r: r["seconds"])
    print(f"{len(found)} cases, {len({r['model_type'] for r in found})} model types, "
          f"peak RSS {max(r['peak_rss_mib'] for r in found):.0f} MiB, slowest {slowest['seconds']:.1f} s "
          f"({slowest['model_type']} {slowest['field']}={slowest['value']})")
    return found


def _label(r: dict) -> str:
    return f"{r['model_type']} {r['field']}={r['value']} ({' '.join(p for p in r['command'] if p != '{model}')})"


@pytest.mark.slow
def test_every_model_type_is_covered(results):
    from transformers import CONFIG_MAPPING

    assert {r["model_type"] for r in results} == set(CONFIG_MAPPING.keys())


@pytest.mark.slow
def test_every_case_ends_in_bounds_with_an_answer_or_one_clear_error(results):
    failures = []
    for r in results:
        errors = [line for line in r["stderr"].splitlines() if line.startswith("error: ")]
        if r["exception"] or "Traceback" in r["stdout"] + r["stderr"]:
            failures.append(f"{_label(r)}: raised {r['exception']}")
        elif r["seconds"] > CASE_SECONDS:
            failures.append(f"{_label(r)}: took {r['seconds']:.1f} s")
        elif r["exit_code"] not in (0, 1, 2):
            failures.append(f"{_label(r)}: exit {r['exit_code']}")
        elif r["exit_code"] and not (len(errors) == 1 or r["command"][0] == "doctor" and r["stdout"]):
            failures.append(f"{_label(r)}: exit {r['exit_code']} without one error line: {r['stderr'][-300:]}")
        elif "unexpected" in r["stderr"]:
            failures.append(f"{_label(r)}: {errors}")
    assert failures == []


@pytest.mark.slow
def test_peak_memory_stays_under_1_gb(results):
    assert max(r["peak_rss_mib"] for r in results) < PEAK_RSS_MIB


@pytest.mark.slow
def test_absurd_repetition_counts_are_refused_naming_the_field(results):
    counts = [r for r in results if r["value"] == 10**9 and r["command"][0] == "inspect"
              and r["field"] and r["field"].rsplit(".", 1)[-1].endswith(("layers", "depths", "experts"))]
    assert len(counts) > 500
    for r in counts:
        field = r["field"].rsplit(".", 1)[-1]
        assert r["exit_code"] in (1, 2), _label(r)
        assert r["exit_code"] == 1 or f"{field}=1,000,000,000" in r["stderr"], (_label(r), r["stderr"])
