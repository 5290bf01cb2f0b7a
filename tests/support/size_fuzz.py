"""Absurd but well-typed sizes for every model type transformers knows, and a runner for them.

Each case is the default config of a model type with one size field (layers, hidden size, heads,
vocabulary, experts, image size, ...) pushed to an extreme: 10**9, 2**40, 0 or -1. Every model type
gets its repetition count (what hangs a meta build) at 10**9, every third one its widest field too; every
second one also another field at a rotating extreme through a rotating command (the sample is deterministic),
so the whole run stays near a minute and a half on two cores.

Run by tests/meta/test_size_fuzz.py: `python size_fuzz.py CASES_JSON WORK_DIR` runs a batch of cases in
one process (torch is imported once) and prints one JSON line per case; the process's peak RSS is an
upper bound for each of its cases.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from pathlib import Path

from support import peak_rss_mib

SIZE_FIELD = re.compile(
    r"(?:^|_)(?:layers?|depths?|blocks?|stages?|experts|hidden_size|hidden_dim|d_model|n_embd|dim|embed_dim"
    r"|intermediate_size|ffn_dim|d_ff|n_inner|vocab_size|heads|image_size|patch_size|channels|positions"
    r"|max_position_embeddings|window_size|kv_lora_rank|head_dim|num_labels)$"
)
NOT_A_SIZE = re.compile(r"select|index|idx|_id$|ids$|every|freq|step|interval|start|skip|token")
COUNT_FIELD = re.compile(r"(?:layers?|depths?|blocks?|stages?|experts)$")
WIDE_FIELD = re.compile(r"(?:hidden_size|d_model|n_embd|embed_dim|dim|hidden_dim)$")
EXTREMES = (10**9, 2**40, 0, -1)
# Commands as run in-process; {model} is the model directory. inspect builds the model from the config;
# with a safetensors file beside it, doctor and heads --check-weights build it too.
COMMANDS = (["inspect", "{model}"], ["heads", "{model}"], ["source", "AutoModel", "{model}"],
            ["doctor", "{model}"], ["heads", "{model}", "--check-weights"], ["inspect", "{model}", "--tree"])
WIDE_SHARE, SAMPLED_SHARE = 3, 2  # one model type in WIDE_SHARE gets the wide case, one in SAMPLED_SHARE another


def size_fields(config: dict, prefix: str = "") -> list[str]:
    """Dotted paths of the integer (or list of integers) size fields of a config dict, nested configs included."""
    found = []
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            found += size_fields(value, f"{path}.")
        elif SIZE_FIELD.search(key) and not NOT_A_SIZE.search(key) and _integers(value):
            found.append(path)
    return found


def _integers(value) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    return isinstance(value, int) and not isinstance(value, bool)


def default_config(model_type: str) -> dict:
    """The config.json transformers writes for the defaults of `model_type` (just the model_type when its
    config class needs arguments)."""
    from transformers import CONFIG_MAPPING

    try:
        config = CONFIG_MAPPING[model_type]().to_dict()
    except Exception:  # noqa: BLE001 - a few config classes validate their defaults away
        config = {}
    config["model_type"] = model_type
    return json.loads(json.dumps(config, default=str))  # dtypes and such as strings, as in a saved config.json


def build_cases() -> list[dict]:
    """Every model type: its first repetition count at 10**9; every WIDE_SHARE-th type its widest field at
    10**9 too, every SAMPLED_SHARE-th type one random size field at a rotating extreme through a rotating
    command."""
    from transformers import CONFIG_MAPPING

    cases = []
    for number, model_type in enumerate(sorted(CONFIG_MAPPING.keys())):
        fields = size_fields(default_config(model_type))
        picked = [next((f for f in fields if COUNT_FIELD.search(f)), None),
                  next((f for f in fields if WIDE_FIELD.search(f)), None) if number % WIDE_SHARE == 0 else None]
        chosen = [(f, 10**9, COMMANDS[0], False) for f in dict.fromkeys(picked) if f]
        if number % SAMPLED_SHARE == 0 and fields:
            rng = random.Random(model_type)
            command = COMMANDS[(number // SAMPLED_SHARE) % len(COMMANDS)]
            chosen.append((rng.choice(fields), EXTREMES[number // SAMPLED_SHARE % len(EXTREMES)], command,
                           command[0] in ("doctor", "heads")))
        if not chosen:  # no size field at all: still run the default config through inspect
            chosen.append((None, None, COMMANDS[0], False))
        cases += [{"model_type": model_type, "field": f, "value": v, "command": c, "weights": w}
                  for f, v, c, w in chosen]
    return cases


def _set(config: dict, path: str, value: int) -> None:
    *parents, key = path.split(".")
    for parent in parents:
        config = config[parent]
    config[key] = [value] * len(config[key]) if isinstance(config[key], list) else value


def write_model(case: dict, directory: Path) -> Path:
    """The case's config.json; with `weights`, a one-tensor model.safetensors so that weight commands build."""
    config = default_config(case["model_type"])
    if case["field"]:
        _set(config, case["field"], case["value"])
    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps(config))
    if case["weights"]:
        header = json.dumps({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
        (directory / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
    return directory


def main() -> None:
    from typer.testing import CliRunner

    from automodel_cli.cli import app

    cases, work = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2])
    runner = CliRunner()
    warm_up = write_model({"model_type": "bert", "field": None, "weights": False}, work / "warm-up")
    runner.invoke(app, ["inspect", str(warm_up)])  # imports torch and transformers once, before any timing
    for number, case in enumerate(cases):
        model = write_model(case, work / f"case-{number}")
        args = [str(model) if part == "{model}" else part for part in case["command"]]
        print(json.dumps({"started": number}), flush=True)  # names the case if the process hangs
        start = time.perf_counter()
        result = runner.invoke(app, args)
        print(json.dumps({
            **case, "exit_code": result.exit_code, "stdout": result.stdout[-2000:], "stderr": result.stderr[-2000:],
            "exception": None if result.exception is None or isinstance(result.exception, SystemExit)
            else repr(result.exception),
            "seconds": time.perf_counter() - start,
            "peak_rss_mib": peak_rss_mib(),
        }), flush=True)


if __name__ == "__main__":
    main()
