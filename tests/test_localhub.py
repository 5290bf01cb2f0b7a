"""The local Hub itself (tests/support/localhub.py): what other tests rely on, checked against the real clients."""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import urllib.error
import urllib.request

from safetensors import safe_open


def get(url: str, range_header: str | None = None):
    request = urllib.request.Request(url, headers={"Range": range_header} if range_header else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_range_requests_read_a_safetensors_header(local_hub, tiny_bert_repo, tiny_bert_dir):
    url = f"{local_hub.endpoint}/{tiny_bert_repo}/resolve/main/model.safetensors"
    size = (tiny_bert_dir / "model.safetensors").stat().st_size
    status, headers, prefix = get(url, "bytes=0-7")
    assert (status, headers["content-range"], len(prefix)) == (206, f"bytes 0-7/{size}", 8)
    (length,) = struct.unpack("<Q", prefix)
    status, _, header = get(url, f"bytes=8-{8 + length - 1}")
    assert status == 206
    with safe_open(tiny_bert_dir / "model.safetensors", "np") as local:
        assert set(json.loads(header)) - {"__metadata__"} == set(local.keys())
    assert get(url, "bytes=-4")[2] == (tiny_bert_dir / "model.safetensors").read_bytes()[-4:]
    status, headers, _ = get(url, f"bytes={size}-")
    assert (status, headers["content-range"]) == (416, f"bytes */{size}")
    status, headers, body = get(url)
    assert (status, headers["accept-ranges"], len(body)) == (200, "bytes", size)


CLIENT_SCRIPT = """
import json, sys
from huggingface_hub import HfApi, get_safetensors_metadata, hf_hub_download
repo = sys.argv[1]
answers = {
    "parameters": get_safetensors_metadata(repo).parameter_count,
    "files": sorted(s.rfilename for s in HfApi().model_info(repo).siblings),
    "files_at_tag": sorted(s.rfilename for s in HfApi().model_info(repo, revision="v1").siblings),
}
for name, revision in (("missing-file", None), ("missing-revision", "nope")):
    try:
        hf_hub_download(repo, "missing.json", revision=revision)
    except Exception as error:
        answers[name] = type(error).__name__
print(json.dumps(answers))
"""


def test_huggingface_hub_clients_work_against_it(local_hub, tiny_bert_dir):
    local_hub.add_repo("amx-test/tiny-bert-tagged", tiny_bert_dir, tags=["v1"])
    env = {**os.environ, **local_hub.env()}
    result = subprocess.run([sys.executable, "-c", CLIENT_SCRIPT, "amx-test/tiny-bert-tagged"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    with safe_open(tiny_bert_dir / "model.safetensors", "np") as local:
        parameters = sum(math.prod(local.get_slice(name).get_shape()) for name in local.keys())
    assert answers["parameters"] == {"F32": parameters}
    assert answers["files"] == answers["files_at_tag"] == sorted(p.name for p in tiny_bert_dir.iterdir())
    assert answers["missing-file"] == "RemoteEntryNotFoundError"
    assert answers["missing-revision"] == "RevisionNotFoundError"
