"""Runs every hostile case through one amx command in this process and prints the results as JSON.

Used by test_hostile.py: one process per command keeps the suite fast (torch is imported once) and
makes the process's peak RSS an upper bound for every case.
Usage: python hostile_runner.py CASES_DIR COMMAND_TEMPLATE_JSON READS_WEIGHTS(0|1)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from automodel_cli.cli import app  # noqa: E402
from support import peak_rss_mib  # noqa: E402
from support.hostile import MARKER, build_cases  # noqa: E402


def main() -> None:
    cases_dir, template, reads_weights = Path(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3] == "1"
    runner = CliRunner()
    results = []
    for case in build_cases(cases_dir):
        exit_codes, message = case.exit_codes, case.message
        if reads_weights and case.weights_exit_codes is not None:
            exit_codes, message = case.weights_exit_codes, case.weights_message
        if template[0] == "doctor":
            exit_codes = exit_codes | {1}  # a model that would not load (or load with warnings) is a finding
        if template[0] == "diff":  # compared with gpt2: an answer is "they differ"; a side it cannot read, exit 2
            exit_codes = {1 if code == 0 else 2 if code == 1 else code for code in exit_codes}
        for as_json in (False, True):
            args = [case.reference if part == "{model}" else part for part in template]
            if as_json:
                args.append("--json")
            start = time.perf_counter()
            result = runner.invoke(app, args)
            results.append({
                "case": case.name, "json": as_json, "exit_code": result.exit_code,
                "exit_codes": sorted(exit_codes), "message": message,
                "stdout": result.stdout, "stderr": result.stderr,
                "exception": None if result.exception is None or isinstance(result.exception, SystemExit)
                else repr(result.exception),
                "seconds": time.perf_counter() - start,
            })
    executed = sorted(str(p) for p in cases_dir.rglob(MARKER))
    json.dump({"peak_rss_mib": peak_rss_mib(), "results": results, "executed": executed}, sys.stdout)


if __name__ == "__main__":
    main()
