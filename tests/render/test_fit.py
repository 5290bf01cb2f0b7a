"""Every table fits the terminal it is printed on (COLUMNS), and nothing a reader needs is cut to fit."""

from __future__ import annotations

import json

import pytest
from support import EXAMPLES
from support.preloaded import run_amx_preloaded

NARROW = {"COLUMNS": "80"}


@pytest.mark.parametrize("model", ["bert-base-uncased", "qwen2.5-vl-7b-instruct", "mpt-7b-instruct-remote"])
def test_heads_at_80_columns_keep_every_class_name_whole_and_the_native_mark(model):
    wide = json.loads(run_amx_preloaded("heads", str(EXAMPLES / model), "--json").stdout)
    narrow = run_amx_preloaded("heads", str(EXAMPLES / model), env=NARROW)
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines) and "…" not in narrow.stdout
    unwrapped = " ".join(narrow.stdout.split())
    for head in wide["heads"]:
        rows = [line for line in lines if f" {head['auto_class']} " in f"{line} "]
        assert rows and (not head["native"] or any(row.startswith("★") for row in rows))
        assert head["model_class"] in unwrapped and head["task"] in unwrapped


def test_a_wide_terminal_keeps_the_table_and_a_pipe_without_columns_is_never_cut():
    wide = run_amx_preloaded("heads", str(EXAMPLES / "bert-base-uncased"), env={"COLUMNS": "160"}).stdout
    piped = run_amx_preloaded("heads", str(EXAMPLES / "bert-base-uncased")).stdout
    for output in (wide, piped):
        assert "┃ Auto class" in output and "│ AutoModelForSequenceClassification │" in output and "…" not in output


@pytest.mark.parametrize("args", [("tasks",), ("inspect", "stable-diffusion-xl-base-1.0"), ("tasks", "ner", "--model-types"),
                                  ("check", "--manifest", "examples/ci/amx.toml"),
                                  ("inspect", "qwen2.5-0.5b-instruct", "--all")],
                         ids=["tasks", "pipeline", "model-types", "check", "inspect-all"])
def test_every_table_fits_80_columns_without_cutting_a_cell(args):
    args = tuple(str(EXAMPLES / arg) if (EXAMPLES / arg).is_dir() else arg for arg in args)
    result = run_amx_preloaded(*args, env=NARROW)
    assert result.returncode in (0, 1), result.stderr
    assert all(len(line) <= 80 for line in result.stdout.splitlines()), result.stdout
    assert "…" not in result.stdout
