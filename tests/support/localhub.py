"""A real Hub-compatible server on 127.0.0.1 for the tests: olah (PyPI) in offline mirror mode.

Tests create plain git repositories (branch `main`) under `<root>/mirrors/models/<org>/<name>`;
olah serves them at `http://127.0.0.1:<port>`, and amx reaches them through `HF_ENDPOINT` exactly as
it reaches huggingface.co. Repositories can be added while the server runs (olah opens the git
repository on every request). Use it through the fixtures in conftest.py:

    def test_something(local_hub, tiny_bert_dir, tiny_bert_repo):
        # tiny_bert_repo: "amx-test/tiny-bert-cls", config.json + model.safetensors on main
        local_hub.add_repo("org/name", {"config.json": {"model_type": "gpt2"},
                                        "model.safetensors": tiny_bert_dir / "model.safetensors"},
                           tags=["v1"], branches={"dev": {"config.json": {"model_type": "bert"}}})
        run_amx("heads", "org/name@dev", env=local_hub.env())   # a fresh, empty HF cache
        run_amx("heads", "org/name", env=local_hub.env(tmp_path))  # the cache in tmp_path/hub

What works (checked with olah 0.5.4 and huggingface_hub 2.4):
- `GET|HEAD /<org>/<name>/resolve/<rev>/<file>` and the legacy `/<name>/resolve/...` (ids like `gpt2`),
  where <rev> is a branch, a tag or a commit sha; HEAD carries `x-repo-commit`, `etag` and
  `content-length`, so `hf_hub_download`, `get_hf_file_metadata` and transformers' `from_pretrained`
  work, and the HF cache records the ref (`try_to_load_from_cache(..., revision="v1")`).
- `GET /api/models/<org>/<name>/revision/<rev>` (model info: `sha` and `siblings`, the file list,
  but no sizes even with `files_metadata=True`), `/refs`, `/tree/<rev>` and `/paths-info/<rev>`
  (with sizes): `HfApi().list_repo_files`, `get_paths_info`, `list_repo_refs`, `file_exists` work.
- Binary files committed plainly to git (no git-lfs needed), e.g. model.safetensors.
- Revisions containing '/' (e.g. `refs/pr/1`) do NOT work: olah routes on the decoded path.

olah alone differs from huggingface.co in three ways that matter to amx; `HubCompat` below, a thin
ASGI layer around olah's app in the server process, makes it answer as the Hub does:
- Range requests: olah streams the whole file with 200. HubCompat answers a single `Range: bytes=`
  on `/resolve/` with 206 and `content-range` (416 when unsatisfiable), and HEAD/GET advertise
  `accept-ranges: bytes`. So `get_safetensors_metadata` and hand-rolled header reads really read
  only the bytes they ask for.
- A missing file or revision in an existing repository: olah answers 401 RepoNotFound. HubCompat
  turns that into the Hub's 404 `x-error-code: EntryNotFound` / `RevisionNotFound`. Unknown
  repositories keep olah's 401 RepoNotFound, which is also what the Hub sends to anonymous users.
- `GET /api/models/<org>/<name>` (no revision) is a 401 in olah's offline mode; HubCompat serves it
  as `/revision/main`, so `HfApi().model_info(repo_id)` works. Model info lists each `*.safetensors`
  file's `lfs` (sha256 and size), as the Hub does for weights stored with git-lfs.
HubCompat counts the bytes of file content it sends (`/resolve/` bodies, per repository and file):
`LocalHub.served_bytes()` returns and resets the counts, so a test can prove what was read.
olah ignores tokens; HubCompat refuses the token `INVALID_TOKEN` with the Hub's 401 "Invalid credentials
in Authorization header" on every route, so the bad-token path can be tested. Other tokens are ignored.

Run as a script (`python localhub.py CONFIG.toml`) it is the server process itself.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

FileContent = dict | list | str | bytes | Path
Files = Path | dict[str, FileContent]

STARTUP_TIMEOUT_SECONDS = 30
_GIT_IDENTITY = ["-c", "user.name=amx tests", "-c", "user.email=tests@amx.invalid", "-c", "commit.gpgsign=false"]
_RESOLVE = re.compile(r"/(?P<repo>[^/]+(?:/[^/]+)?)/resolve/(?P<rev>[^/]+)/(?P<file>.+)")
_MODEL_INFO = re.compile(r"/api/models/(?P<repo>[^/]+(?:/[^/]+)?)")
_MODEL_INFO_AT = re.compile(r"/api/models/(?P<repo>[^/]+(?:/[^/]+)?)/revision/(?P<rev>[^/]+)")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
SERVED_PATH = "/_localhub/served-bytes"
INVALID_TOKEN = "hf_invalid"  # HubCompat refuses it as huggingface.co refuses a wrong or expired token


def olah_available() -> bool:
    return importlib.util.find_spec("olah") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *_GIT_IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def _write_files(repo: Path, files: Files) -> None:
    if isinstance(files, Path):
        shutil.copytree(files, repo, dirs_exist_ok=True)
        return
    for name, content in files.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        elif isinstance(content, str):
            target.write_text(content)
        else:
            target.write_text(json.dumps(content, indent=2))


class LocalHub:
    """One olah server and the git repositories it serves; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.mirrors = root / "mirrors"
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None

    def add_repo(
        self,
        repo_id: str,
        files: Files,
        *,
        tags: list[str] | tuple[str, ...] = (),
        branches: dict[str, Files] | None = None,
    ) -> str:
        """Create (or replace) repository `repo_id` and return the sha of its `main` commit.

        `files` is a directory to copy, or {path in repo: content}, where a dict/list content is
        written as JSON, str as text, bytes as is, and a Path is copied. `tags` point at `main`.
        Each of `branches` forks from `main`, with its files written over main's.
        """
        repo = self.mirrors / "models" / repo_id
        shutil.rmtree(repo, ignore_errors=True)
        repo.mkdir(parents=True)
        _git(repo, "init", "-q", "-b", "main")
        _write_files(repo, files)
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "--allow-empty", "-m", f"{repo_id} main")
        main_sha = _git(repo, "rev-parse", "HEAD")
        for tag in tags:
            _git(repo, "tag", tag)
        for branch, branch_files in (branches or {}).items():
            _git(repo, "checkout", "-q", "-b", branch)
            _write_files(repo, branch_files)
            _git(repo, "add", "-A")
            _git(repo, "commit", "-q", "--allow-empty", "-m", f"{repo_id} {branch}")
            _git(repo, "checkout", "-q", "main")
        return main_sha

    def env(self, hf_home: Path | None = None) -> dict[str, str]:
        """Environment for an amx subprocess talking to this server, with its own (empty) HF cache
        unless `hf_home` is given (pass the same one twice to share a cache between runs)."""
        if hf_home is None:
            hf_home = Path(tempfile.mkdtemp(prefix="hf-home-", dir=self.root))
        return {"HF_ENDPOINT": self.endpoint, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "0"}

    def start(self) -> None:
        self.mirrors.mkdir(parents=True, exist_ok=True)
        config = self.root / "olah.toml"
        config.write_text(
            f"""[basic]
host = "127.0.0.1"
port = {self.port}
repos-path = "{self.root / 'olah-cache'}"
mirror-scheme = "http"
mirror-netloc = "127.0.0.1:{self.port}"
mirror-lfs-netloc = "127.0.0.1:{self.port}"
mirrors-path = ["{self.mirrors}"]

[accessibility]
offline = true
[[accessibility.proxy]]
repo = "*"
allow = true
[[accessibility.cache]]
repo = "*"
allow = true
"""
        )
        log = open(self.root / "server.log", "wb")
        self._process = subprocess.Popen(
            [sys.executable, __file__, str(config)], cwd=self.root, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:  # any HTTP answer means uvicorn serves (olah's own index page is a 500 here)
                urllib.request.urlopen(self.endpoint + "/api/whoami-v2", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"olah did not start on {self.endpoint}:\n{(self.root / 'server.log').read_text()[-2000:]}")

    def served_bytes(self) -> dict[str, int]:
        """{"org/name/file": bytes of content sent} since the last call (then reset)."""
        with urllib.request.urlopen(self.endpoint + SERVED_PATH, timeout=5) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


class SlowRelay:
    """A TCP relay on 127.0.0.1 that accepts at once and forwards to `port`, holding every answer back for
    `delay` seconds: a Hub that is slow but alive (a slow link, a large repository's file listing).

        with SlowRelay(local_hub.port, delay=3) as relay:
            run_amx("heads", "org/name", env={**local_hub.env(), "HF_ENDPOINT": relay.endpoint})
    """

    def __init__(self, port: int, delay: float) -> None:
        self.port, self.delay = port, delay
        self._server = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._open: list[socket.socket] = []

    def __enter__(self) -> SlowRelay:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *_) -> None:
        self._server.close()
        for sock in self._open:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:  # closed by __exit__
                return
            upstream = socket.create_connection(("127.0.0.1", self.port))
            self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, 0.0), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.delay), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, delay: float) -> None:
        try:
            data = source.recv(65536)
            time.sleep(delay)
            while data:
                target.sendall(data)
                data = source.recv(65536)
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class HubCompat:
    """ASGI layer around olah's app that answers as huggingface.co does (see the module docstring)."""

    def __init__(self, app, mirrors: Path) -> None:
        self.app = app
        self.models = mirrors / "models"
        self.served: dict[str, int] = {}

    def _repo_dir(self, repo_id: str) -> Path | None:
        repo = self.models / repo_id
        return repo if (repo / ".git").is_dir() else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if dict(scope["headers"]).get(b"authorization") == b"Bearer " + INVALID_TOKEN.encode():
            return await self._reply(send, 401, [(b"x-error-message", b"Invalid credentials in Authorization header")])
        path = scope["path"]
        if path == SERVED_PATH:
            served, self.served = self.served, {}
            return await self._reply(send, 200, [(b"content-type", b"application/json")], json.dumps(served).encode())
        info = _MODEL_INFO.fullmatch(path)
        if info and self._repo_dir(info["repo"]):
            path += "/revision/main"
            scope = {**scope, "path": path, "raw_path": scope["raw_path"] + b"/revision/main"}
        info = _MODEL_INFO_AT.fullmatch(path)
        resolve = _RESOLVE.fullmatch(path)
        if resolve is None and (info is None or self._repo_dir(info["repo"]) is None):
            return await self.app(scope, receive, send)

        start: dict = {}
        body = bytearray()

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        status, headers = start["status"], list(start.get("headers", []))
        if resolve is None:
            if status == 200:
                body = self._with_lfs(self._repo_dir(info["repo"]), info["rev"], bytes(body))
                headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
            return await self._reply(send, status, headers, bytes(body))
        repo = self._repo_dir(resolve["repo"])
        if status == 401 and repo is not None:
            status, headers, body = self._missing(repo, resolve["rev"], resolve["file"])
        elif status == 200:
            headers.append((b"accept-ranges", b"bytes"))
            wanted = dict(scope["headers"]).get(b"range")
            if wanted is not None and scope["method"] == "GET":
                status, headers, body = self._ranged(headers, bytes(body), wanted.decode("latin-1"))
        if scope["method"] == "GET" and status in (200, 206):
            key = f"{resolve['repo']}/{resolve['file']}"
            self.served[key] = self.served.get(key, 0) + len(body)
        await self._reply(send, status, headers, bytes(body))

    @staticmethod
    async def _reply(send, status: int, headers: list, body: bytes = b"") -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _with_lfs(repo: Path, rev: str, body: bytes) -> bytes:
        """Model info as the Hub lists it with `files_metadata=True`: safetensors files are git-lfs files there,
        each sibling with `lfs: {sha256, size, pointerSize}` (olah lists names only)."""
        import hashlib

        import git

        info = json.loads(body)
        tree = git.Repo(repo).commit(rev).tree
        for sibling in info.get("siblings") or []:
            name = sibling.get("rfilename", "")
            if name.endswith(".safetensors"):
                data = (tree / name).data_stream.read()
                sibling["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
        return json.dumps(info).encode()

    @staticmethod
    def _missing(repo: Path, rev: str, filename: str):
        import git

        try:
            git.Repo(repo).commit(rev)
            code, message = "EntryNotFound", f"{filename} does not exist on {rev!r}"
        except Exception:  # noqa: BLE001 - any failure to resolve the ref means the revision is unknown
            code, message = "RevisionNotFound", f"Invalid rev id: {rev}"
        payload = json.dumps({"error": message}).encode()
        headers = [(b"x-error-code", code.encode()), (b"x-error-message", message.encode()),
                   (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        return 404, headers, payload

    @staticmethod
    def _ranged(headers: list, body: bytes, wanted: str):
        size = len(body)
        match = _RANGE.fullmatch(wanted.strip())
        if match is None or match.group(1) == match.group(2) == "":
            return 200, headers + [(b"content-length", str(size).encode())], body
        first, last = match.groups()
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"transfer-encoding")]
        if start >= size or start > end:
            return 416, kept + [(b"content-range", f"bytes */{size}".encode()), (b"content-length", b"0")], b""
        part = body[start : end + 1]
        return 206, kept + [
            (b"content-range", f"bytes {start}-{end}/{size}".encode()),
            (b"content-length", str(len(part)).encode()),
        ], part


def serve(config_path: str) -> None:
    """The server process: olah's FastAPI app with its offline mirror config, behind HubCompat."""
    import uvicorn
    from olah.configs import OlahConfig
    from olah.server import AppSettings, app

    config = OlahConfig(config_path)
    app.state.app_settings = AppSettings(config=config)
    uvicorn.run(HubCompat(app, Path(config.mirrors_path[0])), host=config.host, port=config.port, log_level="warning")


if __name__ == "__main__":
    serve(sys.argv[1])
