"""The `amx check` manifest: what it accepts, and file:line:key errors (exit 2) for what it does not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import EXAMPLES, run_amx

from automodel_cli.base.errors import ManifestError
from automodel_cli.base.toml_lines import key_lines
from automodel_cli.diagnosis.manifest import find_manifest, load_manifest
from automodel_cli.knowledge.head_index import load_index


@pytest.fixture(scope="module")
def index():
    return load_index()


def write(directory: Path, text: str, name: str = "amx.toml") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def manifest_error(path: Path, index) -> ManifestError:
    with pytest.raises(ManifestError) as caught:
        load_manifest(path, index, label=path.name)
    return caught.value


def test_key_lines_follow_tables_arrays_and_multiline_values():
    text = textwrap.dedent('''
        # a comment with key = value
        [defaults]
        allow-remote-code = false

        [[models]]
        model = "gpt2"
        heads = [
          "AutoModelForCausalLM",  # x = 1
          "AutoModel",
        ]
        notes = """
        revision = "not a key"
        """
        'max-memory' = "1GB"

        [[models]]
        "model" = 'a/b'
        [models.extra]
        q = 1
        [[tool.amx.models]]
        model = "c"
    ''').lstrip()
    lines = key_lines(text)
    assert lines[("defaults", "allow-remote-code")] == 3
    assert lines[("models", 0)] == 5
    assert lines[("models", 0, "heads")] == 7
    assert lines[("models", 0, "max-memory")] == 14
    assert ("models", 0, "revision") not in lines and ("models", 0, "AutoModel") not in lines
    assert lines[("models", 1, "model")] == 17
    assert lines[("models", 1, "extra", "q")] == 19
    assert lines[("tool", "amx", "models", 0, "model")] == 21


def test_manifest_values_defaults_and_lines(tmp_path, index):
    (tmp_path / "models" / "ner").mkdir(parents=True)
    (tmp_path / "models" / "ner" / "config.json").write_text((EXAMPLES / "bert-ner" / "config.json").read_text())
    path = write(tmp_path, '''
        [defaults]
        allow-remote-code = false
        require-safetensors = true

        [[models]]
        model = "models/ner"
        heads = ["AutoModelForTokenClassification"]
        native-head = "AutoModelForTokenClassification"
        max-parameters = "1.5B"
        max-memory = "16GiB"
        dtype = "bfloat16"

        [[models]]
        model = "org/name@v1"
        require-safetensors = false
        max-parameters = 110_000_000
        max-memory = "2GB"
        min-transformers = "4.45"
        max-transformers = "5"
    ''')
    first, second = load_manifest(path, index, label="amx.toml").models
    assert first.reference == str(tmp_path / "models" / "ner")  # next to the manifest, not the current directory
    assert (first.heads, first.native_head, first.dtype) == (["AutoModelForTokenClassification"],
                                                             "AutoModelForTokenClassification", "bfloat16")
    assert (first.max_parameters, first.max_memory) == (1_500_000_000, 16 * 2**30)
    assert (first.allow_remote_code, first.require_safetensors) == (False, True)
    assert (first.file, first.line) == ("amx.toml", 5)
    assert second.reference is None and second.model == "org/name@v1"
    assert (second.max_parameters, second.max_memory) == (110_000_000, 2 * 10**9)
    assert (second.require_safetensors, second.allow_remote_code) == (False, False)  # entry overrides defaults
    assert (second.min_transformers, second.max_transformers, second.line) == ("4.45", "5", 13)


def test_pyproject_tool_amx_and_discovery(tmp_path, index):
    write(tmp_path, '''
        [project]
        name = "x"

        [[tool.amx.models]]
        model = "gpt2"
        heads = ["AutoModelForCausalLM", "AutoModelForSequenceClassification"]
    ''', "pyproject.toml")
    found = find_manifest(tmp_path)
    assert found == tmp_path / "pyproject.toml"
    (spec,) = load_manifest(found, index).models
    assert spec.line == 4 and spec.heads[1] == "AutoModelForSequenceClassification"
    write(tmp_path, '[[models]]\nmodel = "gpt2"\n')
    assert find_manifest(tmp_path) == tmp_path / "amx.toml"  # amx.toml wins


def test_pyproject_without_tool_amx_is_not_a_manifest(tmp_path, index):
    write(tmp_path, '[project]\nname = "x"\n[tool.amxother]\nq = 1\n', "pyproject.toml")
    assert find_manifest(tmp_path) is None
    assert "no [tool.amx] table" in manifest_error(tmp_path / "pyproject.toml", index).message


@pytest.mark.parametrize(
    ("body", "expected", "hint"),
    [
        ('[[models]]\nmodel = "gpt2"\nmax-params = "7B"\n', "amx.toml:3: models[0].max-params: unknown key",
         "did you mean 'max-parameters'?"),
        ('[[models]]\nmodel = "gpt2"\nheads = "AutoModel"\n', "amx.toml:3: models[0].heads: must be a list", None),
        ('[[models]]\nmodel = "gpt2"\n\n[[models]]\nmodel = "bert"\nheads = ["AutoModelForCasualLM"]\n',
         "amx.toml:6: models[1].heads: 'AutoModelForCasualLM' is not an Auto class of transformers 5.",
         "did you mean 'AutoModelForCausalLM'?"),
        ('[[models]]\nmodel = "gpt2"\nnative-head = "AutoModelForNothing"\n',
         "amx.toml:3: models[0].native-head: 'AutoModelForNothing' is not an Auto class", None),
        ('[[models]]\nmodel = "gpt2"\n[[models]]\nmodel = "bert"\n[[models]]\nmodel = "gpt2"\n',
         "amx.toml:6: models[2].model: 'gpt2' is listed twice (also models[0])", "merge the two entries"),
        ('[[models]]\nmodel = "org/a@v1"\n[[models]]\nmodel = "org/a"\nrevision = "v1"\n',
         "amx.toml:4: models[1].model: 'org/a' is listed twice", None),
        ('[[models]]\nmodel = "gpt2"\nmax-parameters = 0\n', "amx.toml:3: models[0].max-parameters: must be a positive",
         None),
        ('[[models]]\nmodel = "gpt2"\nmax-memory = "16 GB of RAM"\n', "amx.toml:3: models[0].max-memory: must be a",
         None),
        ('[[models]]\nmodel = "gpt2"\nmax-memory = "8GB"\ndtype = "fp16"\n',
         "amx.toml:4: models[0].dtype: must be one of float32, bfloat16, float16, int8, int4, found \"fp16\"", None),
        ('[[models]]\nmodel = "gpt2"\nallow-remote-code = "no"\n',
         'amx.toml:3: models[0].allow-remote-code: must be true or false, found "no"', None),
        ('[[models]]\nmodel = "gpt2"\nmin-transformers = 4.4\n',
         "amx.toml:3: models[0].min-transformers: must be a version string", None),
        ('[[models]]\nmodel = "gpt2"\nmax-transformers = "five"\n',
         "amx.toml:3: models[0].max-transformers: must be a version string", None),
        ('[[models]]\nheads = ["AutoModel"]\n', "amx.toml:1: models[0]: missing key 'model'", None),
        ('[[models]]\nmodel = 12\n', "amx.toml:2: models[0].model: must be a non-empty string, found 12", None),
        ('[[models]]\nmodel = "org/../../x"\n', "amx.toml:2: models[0].model: invalid model reference", None),
        ('[[models]]\nmodel = "gpt2@main"\nrevision = "v2"\n',
         "amx.toml:3: models[0].revision: invalid model reference 'gpt2@main': it names revision 'main'", None),
        ('[defaults]\nmodel = "gpt2"\n[[models]]\nmodel = "x"\n', "amx.toml:2: defaults.model: unknown key", None),
        ('[defaults]\nmax-memory = true\n[[models]]\nmodel = "x"\n', "amx.toml:2: defaults.max-memory: must be", None),
        ('model = "gpt2"\n', "amx.toml:1: model: unknown key", None),
        ('[defaults]\nallow-remote-code = false\n', "amx.toml: no models listed", "[[models]]"),
        ("models = []\n", "amx.toml:1: models: no models listed", None),
        ('models = ["gpt2", 3]\n', "amx.toml:1: models[1]: must be a table with a model key, found 3", None),
        ('[[models]]\nmodel = "gpt2"\nheads = ["AutoModel"\n', "amx.toml:3: invalid TOML:", None),
        ('[[models]]\nmodel = "gpt2"\n[[models]]\nmodel = "gpt2"\nmodel = "x"\n', "amx.toml:5: invalid TOML:", None),
    ],
)
def test_bad_manifests_name_file_line_and_key(tmp_path, index, body, expected, hint):
    error = manifest_error(write(tmp_path, body), index)
    assert error.message.startswith(expected), error.message
    if hint:
        assert hint in (error.hint or "")
    assert error.exit_code == 2 and error.file == "amx.toml"


@pytest.mark.parametrize("model", ["a" * 10_000, "org/na\\u0000me"])
def test_hostile_model_names_are_manifest_errors(tmp_path, index, model):
    error = manifest_error(write(tmp_path, f'[[models]]\nmodel = "{model}"\n'), index)
    assert error.message.startswith("amx.toml:2: models[0].model: ")


def test_two_spellings_of_one_local_model_are_duplicates(tmp_path, index):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text('{"model_type": "gpt2"}')
    error = manifest_error(write(tmp_path, '[[models]]\nmodel = "m"\n[[models]]\nmodel = "./m/config.json"\n'), index)
    assert error.message.startswith("amx.toml:4: models[1].model: './m/config.json' is listed twice")


def test_inline_tables_fall_back_to_the_nearest_line(tmp_path, index):
    body = 'title = "x"\nmodels = [\n  {model = "gpt2", heads = ["AutoModelForCasualLM"]},\n]\n'
    error = manifest_error(write(tmp_path, body), index)
    assert error.message.startswith("amx.toml:1: title: unknown key")
    error = manifest_error(write(tmp_path, body.replace('title = "x"\n', "")), index)
    assert error.message.startswith("amx.toml:1: models[0].heads: 'AutoModelForCasualLM'")


def test_unreadable_huge_deep_and_non_utf8_manifests(tmp_path, index):
    assert "cannot read the manifest" in manifest_error(tmp_path / "amx.toml", index).message
    (tmp_path / "amx.toml").write_bytes(b'[[models]]\nmodel = "\xff"\n')
    assert "not UTF-8" in manifest_error(tmp_path / "amx.toml", index).message
    (tmp_path / "amx.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert manifest_error(tmp_path / "amx.toml", index).message == "amx.toml: invalid TOML: nested too deeply"
    with pytest.raises(ManifestError, match="larger than 10,485,760 bytes"):
        load_manifest(Path("/dev/zero"), index)


def test_cli_bad_manifest_exits_2_with_an_annotation_on_github(tmp_path):
    write(tmp_path, '[[models]]\nmodel = "gpt2"\nheads = ["AutoModelForCasualLM"]\n')
    result = run_amx("check", cwd=tmp_path, env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 2
    assert "error: amx.toml:3: models[0].heads: 'AutoModelForCasualLM' is not an Auto class" in result.stderr
    assert "hint: did you mean 'AutoModelForCausalLM'?" in result.stderr
    assert "::error file=amx.toml,line=3,title=amx check%3A bad manifest::amx.toml:3: models[0].heads" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
