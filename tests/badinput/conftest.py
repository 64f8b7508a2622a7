"""Fixtures for the bad-input catalogue: a CLI runner that checks the contract every case shares
(exit code 2, exactly one `error:` line on stderr, no run folder left behind), scripted engines,
and the fake OpenAI-compatible server of tests/engines (reused, not copied)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from dlpo.cli.app import main

from .checks import Outcome


@pytest.fixture
def cli(capsys):
    """`cli(*argv)` runs `dlpo` in-process and returns exit code, stderr and stdout."""

    def run(*argv: str) -> Outcome:
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Outcome(code, captured.err.strip(), captured.out)

    return run


def _fake_openai_class():
    path = Path(__file__).parents[1] / "engines" / "conftest.py"
    spec = importlib.util.spec_from_file_location("badinput_fake_openai", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FakeOpenAI


@pytest.fixture(scope="module")
def fake_server():
    server = _fake_openai_class()().start()
    yield server
    server.stop()


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries of connection errors happen at once (the delays are tested in tests/engines)."""
    from dlpo.engines.retry import Backoff

    monkeypatch.setattr(Backoff, "delay", lambda self, attempt: 0.0)
