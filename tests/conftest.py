"""Shared fixtures: the real local models and a real OpenAI-compatible server.

Tests marked `model` / `server` skip (with the reason) when the llama-server binary or the model packages
are missing, unless DLPO_REQUIRE_MODELS=1, in which case they fail: CI sets it so a broken set-up
cannot pass silently.
"""

from __future__ import annotations

import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest


def _unavailable(reason: str) -> None:
    if os.environ.get("DLPO_REQUIRE_MODELS") == "1":
        pytest.fail(f"{reason} (DLPO_REQUIRE_MODELS=1)")
    pytest.skip(reason)


def local_model_path(name: str) -> Path:
    """The verified GGUF of a built-in model (assembled on first use), or skip/fail when it or the
    llama-server binary that serves it is missing."""
    from dlpo.engines.llama_server import find_llama_server
    from dlpo.engines.models import ensure_model
    from dlpo.errors import ModelInstallError

    if find_llama_server() is None:
        _unavailable("llama-server is not built (scripts/setup.sh)")
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
def tiny_local_config(small_model_path):
    """A factory of small real-model run configs: the demo task, the dlpo recipe, the 0.5B model in
    both roles, 2 steps of batch 2, 2 validation, test and acceptance questions and short replies;
    keyword arguments replace any of these (`preset=` names the recipe)."""
    from dlpo.optim.presets import resolve_recipe
    from dlpo.train import TrainConfig

    def build(preset: str = "dlpo", **overrides):  # type: ignore[no-untyped-def]
        values = {
            "task": "demo",
            "recipe": resolve_recipe(preset),
            "steps": 2,
            "batch_size": 2,
            "val_limit": 2,
            "test_limit": 2,
            "acceptance_set": 2,
            "forward_max_tokens": 64,
            "critique_max_tokens": 48,
            "reduction_max_tokens": 64,
            "forward": "local:qwen2.5-0.5b",
            "backward": "local:qwen2.5-0.5b",
        }
        return TrainConfig.build(**{**values, **overrides})

    return build


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


@pytest.fixture
def restore_sigint():
    """A `preexec_fn` for a child the test sends SIGINT: a shell starts background jobs with SIGINT
    ignored, the child would inherit that and never raise KeyboardInterrupt (seen: CI launched as
    `bash -c '...' &` timed out in exactly the SIGINT tests)."""

    def preexec() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return preexec


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


@pytest.fixture(scope="session")
def llama_server(small_model_path):
    """A real `llama-server` (the 0.5B model, 2 slots) at 127.0.0.1:<free port>, for tests of the
    `openai` engine over HTTP; stopped at the end of the session."""
    from dlpo.engines.llama_server import LlamaServer, ServerOptions

    server = LlamaServer(small_model_path, "qwen2.5-0.5b", ServerOptions(slots=2, ctx_per_slot=2048))
    try:
        server.start(timeout_s=120)
    except Exception as exc:  # noqa: BLE001 - a failed start fails the tests that need it
        pytest.fail(f"llama-server did not start: {exc}")
    yield RunningServer(server.base_url, server.alias, server.pid or 0)
    server.stop()
