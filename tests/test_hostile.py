"""Hostile and broken input through every command: a clear error or a correct answer, never a
traceback, a hang, a memory blow-up, executed code or files written outside amx's cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from support import PROJECT_ROOT, SUPPORT
from support.hostile import INVISIBLE

# How each command is called with a model reference ({model}), and whether it reads the weights.
COMMANDS = {
    "heads": (["heads", "{model}"], False),
    "heads --processors": (["heads", "{model}", "--processors"], False),
    "heads --check-weights": (["heads", "{model}", "--check-weights"], True),
    "source": (["source", "AutoModel", "{model}"], False),
    "inspect": (["inspect", "{model}"], True),
    "doctor": (["doctor", "{model}"], True),
    "diff": (["diff", str(PROJECT_ROOT / "examples" / "gpt2"), "{model}"], True),
}


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_symlink() or p.exists()}


@pytest.fixture(scope="module", params=sorted(COMMANDS))
def outcome(request, tmp_path_factory):
    command = request.param
    template, reads_weights = COMMANDS[command]
    slug = command.replace(" ", "").replace("-", "")
    cases_dir = tmp_path_factory.mktemp(f"hostile-{slug}")
    workdir = tmp_path_factory.mktemp(f"cwd-{slug}")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HOME": str(workdir)}
    proc = subprocess.run(
        [sys.executable, str(SUPPORT / "hostile_runner.py"), str(cases_dir), json.dumps(template),
         "1" if reads_weights else "0"],
        capture_output=True, text=True, env=env, cwd=workdir, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    data["command"] = command
    data["cwd_files"] = _snapshot(workdir)
    return data


def test_no_case_crashes_or_hangs(outcome):
    failures = []
    for r in outcome["results"]:
        label = f"{outcome['command']} {r['case']}{' --json' if r['json'] else ''}"
        if r["exception"] or "Traceback" in r["stderr"] + r["stdout"]:
            failures.append(f"{label}: raised {r['exception']}")
        elif r["exit_code"] not in r["exit_codes"]:
            failures.append(f"{label}: exit {r['exit_code']}, expected {r['exit_codes']}: {r['stderr'].strip()}")
        elif r["seconds"] > 10:
            failures.append(f"{label}: took {r['seconds']:.1f} s")
    assert failures == []


def test_errors_are_one_clear_line(outcome):
    for r in outcome["results"]:
        if r["exit_code"] == 0:
            continue
        if outcome["command"] == "doctor" and r["exit_code"] == 1 and r["stdout"]:
            # doctor's answer to a model that would not load is a finding (exit 1), not an error
            flowed = " ".join(r["stdout"].split())  # findings are wrapped like prose
            assert r["message"] in flowed and ("✗" in flowed or "!" in flowed or r["json"]), (r["case"], r["stdout"])
            continue
        if outcome["command"] == "diff" and r["exit_code"] == 1:  # diff's answer "they differ", not an error
            assert r["stdout"] and not r["stderr"].startswith("error: "), (r["case"], r["stderr"])
            continue
        errors = [line for line in r["stderr"].splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, (r["case"], r["stderr"])
        assert r["message"] in errors[0], (r["case"], errors[0])
        # inspect shows what the headers say before it meets the error; nothing else comes before an error
        header_block = outcome["command"] == "inspect" and not r["json"] and r["stdout"].startswith("╭─") \
            and " header" in r["stdout"].splitlines()[0] and r["stdout"].rstrip().endswith("╯") \
            and r["stdout"].count("╭─") == 1
        assert r["stdout"] == "" or header_block, (r["case"], r["stdout"])


def test_json_output_is_valid_json(outcome):
    """Every --json run prints one amx JSON document, or nothing on stdout when it ends in an error."""
    documents = 0
    for r in outcome["results"]:
        if not r["json"]:
            continue
        if not r["stdout"]:
            assert r["exit_code"] != 0 and r["stderr"].startswith("error: "), (r["case"], r["stderr"])
            continue
        assert json.loads(r["stdout"])["schema"].startswith("amx."), r["case"]
        documents += 1
    assert documents > 0


def test_invisible_characters_keep_their_value_in_json(outcome):
    """Escaped, not dropped: the parsed JSON holds the very strings of the model's files."""
    shown = [json.loads(r["stdout"]) for r in outcome["results"]
             if r["case"] == "config-c1-injection" and r["json"] and r["stdout"]]
    assert shown
    for data in shown:
        text = json.dumps(data, ensure_ascii=False)
        assert INVISIBLE in text or outcome["command"] == "doctor"  # doctor does not show architectures


def _invisible(text: str) -> list[str]:
    return sorted({c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") and c not in "\n\t"})


def test_file_content_is_never_interpreted_by_the_terminal(outcome):
    for r in outcome["results"]:
        assert _invisible(r["stdout"] + r["stderr"]) == [], (r["case"], r["json"])
        if r["case"] == "config-markup-injection" and r["exit_code"] == 0 and not r["json"]:
            assert "[bold red]X[/bold red]" in r["stdout"]


def test_no_code_from_the_model_is_ever_executed(outcome):
    assert outcome["executed"] == []


def test_peak_memory_stays_bounded(outcome):
    assert outcome["peak_rss_mib"] < 1024


def test_nothing_is_written_outside_the_caches(outcome):
    assert outcome["cwd_files"] <= {".cache"} | {f for f in outcome["cwd_files"] if f.startswith(".cache/")}


@pytest.mark.parametrize("query", ["\x1b[2J[bold red]ner[/bold red]", "x" * 10_000, "", "\x00ner", "[link=http://e]qa"])
def test_tasks_queries_are_text_not_markup(query):
    from typer.testing import CliRunner

    from automodel_cli.cli import app

    result = CliRunner().invoke(app, ["tasks", query])
    assert result.exit_code in (0, 1, 2) and result.exception is None or isinstance(result.exception, SystemExit)
    assert "\x1b" not in result.output and "Traceback" not in result.output
    if result.exit_code:
        assert len([line for line in result.stderr.splitlines() if line.startswith("error: ")]) == 1


@pytest.mark.parametrize("as_json", [False, True])
def test_check_shows_strings_from_model_files_escaped(tmp_path, as_json):
    """`amx check` reports many models at once; their files' strings are escaped there too."""
    from support.hostile import CONFIG_CASES
    from typer.testing import CliRunner

    from automodel_cli.cli import app

    models = [str(CONFIG_CASES[name][0](tmp_path / name)) for name in ("c1-injection", "invisible-model-type")]
    result = CliRunner().invoke(app, ["check", *models, *(["--json"] if as_json else [])])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code in (1, 3) and _invisible(result.stdout + result.stderr) == []
    if as_json:
        assert INVISIBLE in json.dumps(json.loads(result.stdout), ensure_ascii=False)
