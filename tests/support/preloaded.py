"""`python -m automodel_cli` with torch and transformers already imported: a fork server for test files that
run amx many times in processes of their own (an `--import` registers classes for the whole process).

The server is a fresh interpreter that imports torch, transformers and amx's CLI once, then forks one
child per run; the child takes the run's directory, environment and arguments and runs the entry point as
`-m` does, its stdout and stderr written to files. Each run starts from the same untouched state, as a new
process would, without paying for the imports again (about 3 s of CPU each). Environment variables that
huggingface_hub reads at import (HF_*) cannot differ from the server's: a run that changes them gets a new
process (`run_amx`). A test of what gets imported, of how the process ends, or of its pipes uses `run_amx`.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from support import PROJECT_ROOT, run_amx

_SERVER = r"""
import json, os, runpy, signal, sys, time
import torch, transformers  # noqa: F401 - what each run would import
import automodel_cli.cli  # noqa: F401
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        os.dup2(os.open(request["stdin"] or os.devnull, os.O_RDONLY), 0)
        sys.stdin = open(0, closefd=False)
        sys.argv = ["automodel_cli", *request["args"]]
        sys.path[0] = request["cwd"]  # as `python -m` puts the current directory first
        code = 0
        try:
            runpy.run_module("automodel_cli", run_name="__main__", alter_sys=True)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    deadline = time.monotonic() + request["timeout"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.005)
    print(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class PreloadedAmx:
    """One server process; `run` answers like `support.run_amx` (a CompletedProcess with text output)."""

    def __init__(self) -> None:
        self._outputs = Path(tempfile.mkdtemp(prefix="amx-preloaded-"))
        self._env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self._server = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=self._env, cwd=PROJECT_ROOT)

    def run(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            input_text: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        full_env = {**os.environ, "PYTHONPATH": self._env["PYTHONPATH"], **(env or {})}
        changed = {key for key in full_env.keys() | self._env.keys() if full_env.get(key) != self._env.get(key)}
        if any(key.startswith("HF_") for key in changed):  # read at import: only a new process sees them
            return run_amx(*args, env=env, timeout=timeout, cwd=cwd, input_text=input_text)
        stdin, stdout, stderr = (self._outputs / name for name in ("stdin", "stdout", "stderr"))
        if input_text is not None:
            stdin.write_text(input_text, encoding="utf-8")
        request = {"args": list(args), "cwd": str(cwd or Path.cwd()), "env": full_env, "timeout": timeout,
                   "stdin": str(stdin) if input_text is not None else None,
                   "stdout": str(stdout), "stderr": str(stderr)}
        self._server.stdin.write(json.dumps(request) + "\n")
        self._server.stdin.flush()
        answer = self._server.stdout.readline()
        assert answer, "the preloaded amx server died"
        return subprocess.CompletedProcess(["amx", *args], json.loads(answer)["returncode"],
                                           stdout.read_text(encoding="utf-8", errors="replace"),
                                           stderr.read_text(encoding="utf-8", errors="replace"))

    def close(self) -> None:
        self._server.stdin.close()
        self._server.wait(timeout=60)
        for path in self._outputs.iterdir():
            path.unlink()
        self._outputs.rmdir()


_server: list[PreloadedAmx] = []  # one per test process, started by its first run


def run_amx_preloaded(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None,
                      input_text: str | None = None) -> subprocess.CompletedProcess:
    """`support.run_amx` through this test process's server (a new process for HF_* changes)."""
    if not _server:
        _server.append(PreloadedAmx())
        atexit.register(_server[0].close)
    return _server[0].run(*args, cwd=cwd, env=env, input_text=input_text, timeout=timeout)
