"""Shared fixtures: the real local models and a real OpenAI-compatible server.

Tests marked `model` / `server` skip (with the reason) when llama-cpp-python or the model packages
are missing, unless DLPO_REQUIRE_MODELS=1, in which case they fail: CI sets it so a broken set-up
cannot pass silently.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest


def _unavailable(reason: str) -> None:
    if os.environ.get("DLPO_REQUIRE_MODELS") == "1":
        pytest.fail(f"{reason} (DLPO_REQUIRE_MODELS=1)")
    pytest.skip(reason)


def local_model_path(name: str) -> Path:
    """The verified GGUF of a built-in model (assembled on first use), or skip/fail."""
    from dlpo.engines.models import ensure_model
    from dlpo.errors import ModelInstallError

    if importlib.util.find_spec("llama_cpp") is None:
        _unavailable("llama-cpp-python is not installed (scripts/setup.sh)")
    try:
        return ensure_model(name, progress=False)
    except ModelInstallError as exc:
        _unavailable(str(exc))
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def small_model_path() -> Path:
    """Qwen2.5-Coder-0.5B-Instruct Q4_K_M (the CI model)."""
    return local_model_path("qwen2.5-0.5b")


@pytest.fixture(scope="session")
def large_model_path() -> Path:
    """Qwen2.5-Coder-1.5B-Instruct Q4_K_M (slow: use sparingly)."""
    return local_model_path("qwen2.5-1.5b")


@pytest.fixture
def scripted_engines(monkeypatch):
    """Every engine the CLI builds is scripted: forward always answers 'Answer: 7' (right for some
    demo questions), backward as in the fit tests (`train/scripted_setup.py`)."""
    from train.scripted_setup import backward_reply

    from dlpo.engines import spec
    from dlpo.engines.scripted import ScriptedEngine

    def build(spec_str, role="forward"):
        if role == "forward":
            return ScriptedEngine(lambda r: "Answer: 7", name="fwd")
        return ScriptedEngine(backward_reply, name="bwd")

    monkeypatch.setattr(spec, "build_engine", build)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    model: str
    pid: int

    @property
    def spec(self) -> str:
        return f"openai:{self.model}@{self.base_url}"


def _wait_ready(url: str, proc: subprocess.Popen, deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"server not ready at {url} after {deadline_s:.0f} s")


@pytest.fixture(scope="session")
def llama_cpp_server(small_model_path, tmp_path_factory):
    """`python -m llama_cpp.server` on the 0.5B model at 127.0.0.1:<free port>; stopped by PID."""
    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec("fastapi") is None:
        _unavailable("llama-cpp-python[server] is not installed")
    port, alias = free_port(), "qwen2.5-0.5b"
    log = tmp_path_factory.mktemp("server") / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(small_model_path),
        "--model_alias",
        alias,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--seed",
        "0",
        "--verbose",
        "False",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/v1/models", proc, deadline_s=90)
        yield RunningServer(f"http://127.0.0.1:{port}/v1", alias, proc.pid)
    except RuntimeError as exc:
        pytest.fail(f"{exc}; log: {log.read_text()[-2000:]}")
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
