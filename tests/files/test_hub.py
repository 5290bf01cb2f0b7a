"""`amx heads` on Hub models, through the real local Hub server (tests/support/localhub.py) and HF_ENDPOINT,
and the offline paths: a closed port, HF_HUB_OFFLINE=1, with and without a cached copy."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import pytest
from support import CORPUS, PROJECT_ROOT, run_amx, unconnectable_endpoint
from support.localhub import INVALID_TOKEN, SlowRelay, free_port

REVISIONS_REPO = "amx-test/revisions"
NO_CONFIG_REPO = "amx-test/no-config"
GPT2_CONFIG = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}
QA_CONFIG = {"model_type": "distilbert", "architectures": ["DistilBertForQuestionAnswering"]}
# Hub ids served from corpus configs, with the native head each must get.
CORPUS_REPOS = {
    "gpt2": ("gpt2", "AutoModelForCausalLM"),
    "openai-community/gpt2": ("gpt2", "AutoModelForCausalLM"),
    "distilbert/distilbert-base-uncased-distilled-squad": (
        "distilbert-base-uncased-distilled-squad", "AutoModelForQuestionAnswering"),
    "facebook/bart-large-cnn": ("bart-large-cnn-saved", "AutoModelForSeq2SeqLM"),
}


@pytest.fixture(scope="module")
def hub(local_hub, tiny_bert_repo):
    """The local Hub with the repositories of this file: main = gpt2, tag v1.0 = main, branch qa = distilbert QA."""
    local_hub.add_repo(REVISIONS_REPO, {"config.json": GPT2_CONFIG}, tags=["v1.0"],
                       branches={"qa": {"config.json": QA_CONFIG}})
    local_hub.add_repo(NO_CONFIG_REPO, {"README.md": "weights only, no config.json\n"})
    for repo_id, (slug, _) in CORPUS_REPOS.items():
        local_hub.add_repo(repo_id, {"config.json": CORPUS / slug / "config.json"})
    return local_hub


def heads_json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def error_lines(result) -> list[str]:
    """stderr of a failed run, checked to be an `error:` line (plus optional `hint:`), never a traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("error: "), result.stderr
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), result.stderr
    return lines


def test_heads_of_a_hub_model_human(hub, tiny_bert_repo):
    result = run_amx("heads", tiny_bert_repo, env=hub.env())
    assert result.returncode == 0, result.stderr
    assert tiny_bert_repo in result.stdout
    assert "native head: AutoModelForSequenceClassification" in result.stdout
    assert "cache" not in result.stderr


def test_heads_of_a_hub_model_json(hub, tiny_bert_repo):
    report = heads_json(run_amx("heads", tiny_bert_repo, "--json", env=hub.env()))
    assert report["model"] == tiny_bert_repo
    assert report["model_type"] == "bert"
    assert report["architectures"] == ["BertForSequenceClassification"]
    assert report["native_head"] == "AutoModelForSequenceClassification"
    assert {"AutoModel", "AutoModelForMaskedLM", "AutoModelForSequenceClassification"} <= {
        head["auto_class"] for head in report["heads"]}


def test_only_config_json_is_downloaded(hub, tiny_bert_repo, tmp_path):
    assert run_amx("heads", tiny_bert_repo, env=hub.env(tmp_path)).returncode == 0
    snapshots = list((tmp_path / "hub").glob("models--amx-test--tiny-bert-cls/snapshots/*/*"))
    assert [path.name for path in snapshots] == ["config.json"]


@pytest.mark.parametrize("repo_id", CORPUS_REPOS)
def test_native_head_of_corpus_models_on_the_hub(hub, corpus, repo_id):
    report = heads_json(run_amx("heads", repo_id, "--json", env=hub.env()))
    assert report["model"] == repo_id
    assert report["native_head"] == CORPUS_REPOS[repo_id][1]


@pytest.mark.parametrize(
    ("args", "model", "native"),
    [
        ((REVISIONS_REPO,), REVISIONS_REPO, "AutoModelForCausalLM"),
        ((REVISIONS_REPO, "--revision", "qa"), f"{REVISIONS_REPO}@qa", "AutoModelForQuestionAnswering"),
        ((f"{REVISIONS_REPO}@qa",), f"{REVISIONS_REPO}@qa", "AutoModelForQuestionAnswering"),
        ((REVISIONS_REPO, "-r", "v1.0"), f"{REVISIONS_REPO}@v1.0", "AutoModelForCausalLM"),
    ],
    ids=["main", "branch-option", "branch-at-form", "tag"],
)
def test_revisions(hub, args, model, native):
    report = heads_json(run_amx("heads", *args, "--json", env=hub.env()))
    assert report["model"] == model
    assert report["native_head"] == native


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("amx-test/does-not-exist",), "repository amx-test/does-not-exist not found on http://127.0.0.1:"),
        ((NO_CONFIG_REPO,), f"config.json not found in {NO_CONFIG_REPO}"),
        ((REVISIONS_REPO, "--revision", "no-such-branch"), f"revision 'no-such-branch' not found in {REVISIONS_REPO}"),
    ],
    ids=["repository", "file", "revision"],
)
def test_not_found_is_one_clear_line(hub, args, expected):
    result = run_amx("heads", *args, env=hub.env())
    assert result.returncode == 1
    assert expected in error_lines(result)[0]
    assert result.stdout == ""


@pytest.mark.parametrize("how", ["option", "env"])
def test_a_refused_token_is_named_as_the_problem(hub, tiny_bert_repo, how):
    args, env = (("--token", INVALID_TOKEN), hub.env()) if how == "option" else ((), {**hub.env(), "HF_TOKEN": INVALID_TOKEN})
    result = run_amx("heads", tiny_bert_repo, *args, env=env)
    lines = error_lines(result)
    assert result.returncode == 1
    assert "token" in lines[0] and hub.endpoint in lines[0]
    assert "HF_TOKEN" in result.stderr


def closed_endpoint() -> str:
    """An endpoint on 127.0.0.1 where nothing listens: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}"


@contextlib.contextmanager
def silent_endpoint():
    """An endpoint that accepts connections and never answers, like a black-holing proxy."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def timed_amx(*args: str, env: dict[str, str]):
    started = time.monotonic()
    result = run_amx(*args, env=env)
    return result, time.monotonic() - started


@pytest.mark.parametrize("kind", ["refused", "never-connects"])
def test_unreachable_hub_fails_within_3_seconds_naming_the_endpoint(tmp_path, kind):
    env = {"HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "0"}
    # The same failure without waiting: Python start-up and amx's imports, to subtract (offline for a
    # refused connection; a refused one, whose network stack imports are the same, for the other).
    baseline_env = {**env, "HF_HUB_OFFLINE": "1"} if kind == "refused" else {**env, "HF_ENDPOINT": closed_endpoint()}
    _, baseline = timed_amx("heads", "org/never-cached", env=baseline_env)
    with contextlib.ExitStack() as stack:
        endpoint = closed_endpoint() if kind == "refused" else stack.enter_context(unconnectable_endpoint())
        result, elapsed = timed_amx("heads", "org/never-cached", env={**env, "HF_ENDPOINT": endpoint})
    print(f"{kind} endpoint: amx gave up after {elapsed:.2f} s, {elapsed - baseline:.2f} s more than offline")
    lines = error_lines(result)
    assert result.returncode == 1
    assert endpoint in lines[0] and "org/never-cached" in lines[0]
    for suggestion in ("HF_ENDPOINT", "HF_HUB_OFFLINE", "local"):
        assert suggestion in result.stderr
    assert elapsed - baseline < 3  # the spec: within 3 s, not huggingface_hub's ~20 s of retries


@pytest.mark.parametrize("command", [("heads",), ("inspect",)])
def test_a_slow_hub_is_not_an_unreachable_one(hub, tiny_bert_repo, tmp_path, command):
    """Connected at once, every answer 3 s late: amx waits (HF_HUB_ETAG_TIMEOUT, 10 s) and answers."""
    with SlowRelay(hub.port, delay=3) as relay:
        result, elapsed = timed_amx(*command, tiny_bert_repo, "--json", env={**hub.env(), "HF_ENDPOINT": relay.endpoint})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model"] == tiny_bert_repo and "cached" not in result.stderr
    assert elapsed > 3  # it really waited for the late answers


def test_hf_hub_etag_timeout_bounds_the_wait_for_an_answer(tmp_path):
    """A server that accepts and never answers is given HF_HUB_ETAG_TIMEOUT, then called unreachable."""
    env = {"HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "0", "HF_HUB_ETAG_TIMEOUT": "1"}
    _, baseline = timed_amx("heads", "org/never-cached", env={**env, "HF_ENDPOINT": closed_endpoint()})
    with silent_endpoint() as endpoint:
        result, elapsed = timed_amx("heads", "org/never-cached", env={**env, "HF_ENDPOINT": endpoint})
    assert result.returncode == 1 and endpoint in error_lines(result)[0]
    assert elapsed - baseline < 5  # 1 s asked for; huggingface_hub's default would be 10 s


@pytest.mark.parametrize(
    "args", [(REVISIONS_REPO,), (REVISIONS_REPO, "--revision", "qa"), (f"{REVISIONS_REPO}@v1.0",)],
    ids=["main", "branch", "tag"],
)
def test_closed_port_uses_the_cached_copy(hub, tmp_path, args):
    online = run_amx("heads", *args, "--json", env=hub.env(tmp_path))
    expected = heads_json(online)
    offline = run_amx("heads", *args, "--json", env={**hub.env(tmp_path), "HF_ENDPOINT": closed_endpoint()})
    report = heads_json(offline)
    assert report["heads"] == expected["heads"]
    assert (expected["from_cache"], report["from_cache"]) == (False, True)
    assert "cached" in offline.stderr and REVISIONS_REPO in offline.stderr


def test_hf_hub_offline_uses_the_cached_copy(hub, tmp_path):
    expected = heads_json(run_amx("heads", REVISIONS_REPO, "-r", "qa", "--json", env=hub.env(tmp_path)))
    result = run_amx("heads", REVISIONS_REPO, "-r", "qa", "--json", env={**hub.env(tmp_path), "HF_HUB_OFFLINE": "1"})
    report = heads_json(result)
    assert report["heads"] == expected["heads"] and report["from_cache"]
    assert "cached" in result.stderr


def test_hf_hub_offline_without_a_cached_copy_fails(hub, tmp_path):
    result = run_amx("heads", REVISIONS_REPO, env={**hub.env(tmp_path), "HF_HUB_OFFLINE": "1"})
    lines = error_lines(result)
    assert result.returncode == 1
    assert "HF_HUB_OFFLINE" in lines[0] and REVISIONS_REPO in lines[0]


def test_a_mistyped_local_path_says_no_such_folder_then_what_the_hub_said(local_hub):
    """`examples/nonexistent` beside an examples/ folder: no such local folder, and the Hub has no such repository."""
    result = run_amx("heads", "examples/nonexistent", env=local_hub.env(), cwd=PROJECT_ROOT)
    assert result.returncode == 1 and result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: no such local folder: examples/nonexistent; as a Hub id: ")
    assert "examples/nonexistent" in first.partition("as a Hub id: ")[2]
