"""`amx source` without importing: the static reading of transformers' files gives exactly what
`inspect.getsource` gives on the imported class, or declines (and the command imports instead)."""

from __future__ import annotations

import functools
import io
import sys

import pytest
from rich.console import Console
from support import SOURCE_FAMILIES, run_amx

from automodel_cli.files.reference import resolve_config
from automodel_cli.knowledge.head_index import installed_transformers, load_index
from automodel_cli.knowledge.heads import heads_for_config
from automodel_cli.knowledge.registered import import_transformers_class
from automodel_cli.render import Output
from automodel_cli.render.source import render_source
from automodel_cli.source import static_source
from automodel_cli.source.live_source import live_contract, method_source
from automodel_cli.source.model_source import head_for, source_report
from automodel_cli.source.static_source import Declined, StaticReader, short_contract

METHODS = ("__init__", "forward")


@pytest.fixture(scope="module")
def index():
    return load_index()


def human(report) -> str:
    console = Console(file=io.StringIO(), width=240, color_system=None)
    Output(stdout=console).emit("source", report, functools.partial(render_source, full_contract=False),
                                soft_wrap=True)
    return console.file.getvalue()


@pytest.mark.parametrize("slug, auto_class, model_class", SOURCE_FAMILIES)
def test_static_report_reads_like_the_imported_one(corpus, index, slug, auto_class, model_class):
    resolved = resolve_config(str(corpus / slug))
    heads = heads_for_config(resolved.config, index, slug)
    head = head_for(heads, auto_class)
    static = source_report(resolved, index, heads, head, short_contract=True)
    live = source_report(resolved, index, heads, head)
    assert (static.model_class, live.model_class) == (model_class, model_class)
    assert not static.imported and live.imported, "these families are read without importing"
    assert static.methods == live.methods
    assert human(static) == human(live)


def test_methods_and_whole_class_read_statically(corpus, index):
    resolved = resolve_config(str(corpus / "llama-2-7b-hf"))
    heads = heads_for_config(resolved.config, index, "llama")
    head = head_for(heads, "AutoModelForQuestionAnswering")
    for options in ({"methods": ["forward", "get_input_embeddings"]}, {"whole_class": True}):
        static = source_report(resolved, index, heads, head, short_contract=True, **options)
        live = source_report(resolved, index, heads, head, **options)
        assert not static.imported
        assert static.methods == live.methods
    reader = StaticReader(installed_transformers()[1])
    cls = reader.find_class(index.class_modules["LlamaForQuestionAnswering"], "LlamaForQuestionAnswering")
    inherited = static_source.method_source(reader, cls, "forward")
    assert inherited.defined_in == "GenericForQuestionAnswering"
    assert inherited.inherited_via == ["LlamaForQuestionAnswering", "GenericForQuestionAnswering"]


def test_unknown_method_falls_back_to_the_import_and_its_message(corpus):
    result = run_amx("source", "qa", str(corpus / "distilbert-base-uncased-distilled-squad"), "--method", "forwad")
    assert result.returncode == 2
    assert "has no method 'forwad'; did you mean: forward" in result.stderr


def test_the_cli_reads_without_importing(corpus):
    """The default human output of `amx source` comes from the files alone: torch is never imported."""
    probe = (
        "import sys, runpy; sys.argv = ['amx', 'source', 'qa', sys.argv[1]]\n"
        "try:\n    runpy.run_module('automodel_cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('IMPORTED' if 'torch' in sys.modules or 'transformers' in sys.modules else 'NOT IMPORTED')\n"
    )
    result = run_amx_python(probe, str(corpus / "distilbert-base-uncased-distilled-squad"))
    assert result.stdout.rstrip().endswith("NOT IMPORTED")
    assert "def forward(" in result.stdout and "# returns: QuestionAnsweringModelOutput(" in result.stdout


def run_amx_python(code: str, *args: str):
    import os
    import subprocess

    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})


def _model_classes(index) -> list[tuple[str, str, str]]:
    """(Auto class, model_type, model class): every model class the installed transformers maps, once."""
    config_types = {config: model_type for model_type, config in index.config_classes.items()}
    seen, found = set(), []
    for config_class, heads in index.heads.items():
        model_type = config_types.get(config_class)
        for auto_class, names in heads.items():
            for name in names:
                if model_type and name not in seen:
                    seen.add(name)
                    found.append((auto_class, model_type, name))
    return found


@pytest.mark.slow
def test_every_model_class_reads_as_inspect_getsource_or_declines(index):
    """For each model class and each of __init__/forward: static == inspect.getsource, or the static path declines.

    One process, every model module imported once; the share answered statically is printed (goal >= 99%).
    """
    reader = StaticReader(installed_transformers()[1])
    answered, declined, wrong, contracts = 0, [], [], [0, 0]
    for auto_class, model_type, name in _model_classes(index):
        try:
            cls = import_transformers_class(auto_class, model_type, name)
        except Exception:  # noqa: BLE001 - a class this environment cannot import (missing backend)
            continue
        for method in METHODS:
            try:
                live = method_source(cls, method)
            except Exception:  # noqa: BLE001 - no such method: nothing to compare
                continue
            try:
                static = static_source.method_source(reader, reader.find_class(index.class_modules[name], name), method)
            except (Declined, KeyError) as reason:
                declined.append(f"{name}.{method}: {reason}")
                continue
            answered += 1
            if static != live:
                wrong.append(f"{name}.{method}: static {static.file}:{static.lineno} != live {live.file}:{live.lineno}")
        contracts[1] += 1
        try:
            config_name = index.config_class_for(model_type)
            config = reader.find_class(index.class_modules[config_name], config_name)
            static_contract = short_contract(reader, reader.find_class(index.class_modules[name], name), auto_class,
                                             {}, config)
        except (Declined, KeyError):
            continue
        import transformers

        attribute_map = dict(getattr(transformers.CONFIG_MAPPING[model_type], "attribute_map", {}))
        exact = live_contract(cls, auto_class, {}, attribute_map)
        contracts[0] += 1
        summary = [(p.name, p.kind, p.required) for p in static_contract.inputs]
        if (summary != [(p.name, p.kind, p.required) for p in exact.inputs]
                or static_contract.output_class != exact.output_class
                or [f.name for f in static_contract.output_fields] != [f.name for f in exact.output_fields]
                or static_contract.main_output != exact.main_output):
            wrong.append(f"{name} contract: static {static_contract.output_class} != live {exact.output_class}")
    share = answered / (answered + len(declined))
    print(f"\nstatic source: {answered} of {answered + len(declined)} methods answered statically ({share:.1%}); "
          f"short contract static for {contracts[0]} of {contracts[1]} classes")
    print("\n".join(declined[:40]))
    assert not wrong, wrong[:20]
    assert share >= 0.9
