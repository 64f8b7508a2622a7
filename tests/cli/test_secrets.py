"""An API key from the environment leaves no trace in a run directory, its report or the CLI output,
even when the server echoes it back in an error message."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from dlpo.cli.app import main

SECRET = "sk-test-SECRET123"


def _fake_openai_class():
    """The fake OpenAI server of tests/engines (reused, not copied)."""
    path = Path(__file__).parents[1] / "engines" / "conftest.py"
    spec = importlib.util.spec_from_file_location("engines_fake_openai", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FakeOpenAI


@pytest.fixture
def server():
    fake = _fake_openai_class()().start()
    yield fake
    fake.stop()


def _files_containing(folder: Path, needle: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def test_no_trace_of_the_key_in_a_run_dir(tmp_path, server, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    run = tmp_path / "run"
    url = server.base_url
    argv = [
        "optimize",
        "--forward",
        f"openai:fwd@{url}",
        "--backward",
        f"openai:bwd@{url}",
        "--steps",
        "1",
        "--batch-size",
        "2",
        "--run-dir",
        str(run),
    ]
    assert main(argv) == 0
    assert main(["report", str(run)]) == 0
    # the key was really sent to the server
    assert server.hits["fwd"] > 0 and server.hits["bwd"] > 0
    names = {p.name for p in run.iterdir()}
    assert {
        "config.json",
        "events.jsonl",
        "cache.sqlite",
        "result.json",
        "report.html",
        "summary.md",
    } <= names
    assert _files_containing(run, SECRET) == [] and _files_containing(run, "SECRET123") == []
    out = capsys.readouterr()
    assert "SECRET123" not in out.out + out.err


def test_a_key_echoed_by_the_server_stays_out(tmp_path, server, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    server.plan("leaky", *["leak401"] * 20)
    run = tmp_path / "run"
    url = server.base_url
    code = main(
        [
            "optimize",
            "--forward",
            f"openai:leaky@{url}",
            "--backward",
            f"openai:bwd@{url}",
            "--steps",
            "1",
            "--run-dir",
            str(run),
        ]
    )
    assert code == 2  # a bad API key is an input error (EngineInputError)
    out = capsys.readouterr()
    assert "401" in out.err or "API key" in out.err
    assert "SECRET123" not in out.out + out.err
    assert _files_containing(run, "SECRET123") == []
