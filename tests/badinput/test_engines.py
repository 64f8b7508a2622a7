"""Engine-side input errors (the user's key, model, URL or data is wrong): exit 2 with one line,
and the run folder made for the run is removed, so no later --resume can pick up a run that
never started. A server that fails mid-run is a run failure (exit 1) and keeps its folder."""

from __future__ import annotations

import json
import socket

import pytest

from .checks import assert_input_error


def run_openai(cli, tmp_path, forward, backward=None, *extra):
    run = tmp_path / "r"
    outcome = cli(
        "optimize",
        "--forward",
        forward,
        "--backward",
        backward or forward,
        "--steps",
        "1",
        "--batch-size",
        "2",
        *extra,
        "--run-dir",
        run,
    )
    return outcome, run


def assert_no_run_left(cli, run):
    assert not run.exists(), "an input error before step 1 must not leave a run folder"
    assert_input_error(cli("optimize", "--resume", run), str(run), "not a dlpo run directory")


def test_bad_api_key_401(cli, tmp_path, fake_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    model = fake_server.plan("m401", *["401"] * 50)
    outcome, run = run_openai(cli, tmp_path, f"openai:{model}@{fake_server.base_url}")
    assert_input_error(outcome, "401 Unauthorized", "check OPENAI_API_KEY", fake_server.base_url)
    assert "sk-wrong" not in outcome.err
    assert_no_run_left(cli, run)


def test_unknown_model_404(cli, tmp_path, fake_server):
    model = fake_server.plan("gpt-9", *["404"] * 50)
    outcome, run = run_openai(cli, tmp_path, f"openai:{model}@{fake_server.base_url}")
    assert_input_error(outcome, "404 Not Found", "unknown model 'gpt-9'")
    assert_no_run_left(cli, run)


def test_context_overflow_400(cli, tmp_path, fake_server):
    model = fake_server.plan("small-ctx", *["ctx400"] * 50)
    outcome, run = run_openai(cli, tmp_path, f"openai:{model}@{fake_server.base_url}")
    assert_input_error(outcome, "400 Bad Request", "longer than the model's context window")
    assert_no_run_left(cli, run)


def test_unreachable_server(cli, tmp_path, no_backoff):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    outcome, run = run_openai(cli, tmp_path, f"openai:m@{url}")
    assert_input_error(outcome, "connection error", f"is the server running at {url}?")
    assert_no_run_left(cli, run)


def test_missing_api_key_for_a_remote_server(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    outcome, run = run_openai(cli, tmp_path, "openai:gpt-4o-mini")
    assert_input_error(outcome, "no API key", "OPENAI_API_KEY", "gpt-4o-mini")
    assert_no_run_left(cli, run)


def test_a_server_dying_mid_run_is_a_run_failure(cli, tmp_path, fake_server, no_backoff, capsys):
    """Not an input error: exit 1, and the run folder with its checkpoint stays for --resume."""
    fwd = fake_server.plan("dies-fwd")  # answers; the backward model fails after step 0
    bwd = fake_server.plan("dies-bwd", *["500"] * 200)
    url = fake_server.base_url
    outcome, run = run_openai(cli, tmp_path, f"openai:{fwd}@{url}", f"openai:{bwd}@{url}")
    assert outcome.code == 1 and "500" in outcome.err
    assert json.loads((run / "checkpoint.json").read_text())["step"] == 0


@pytest.mark.model
def test_context_overflow_on_the_local_model(cli, tmp_path, small_model_path):
    """A task whose inputs do not fit the local model's 4096-token window."""
    path = tmp_path / "long.jsonl"
    long_input = "Count the words. " + "word " * 6000
    path.write_text("".join(json.dumps({"input": long_input, "target": str(i)}) + "\n" for i in range(6)))
    run = tmp_path / "r"
    outcome = cli(
        "optimize",
        "--task-file",
        path,
        "--forward",
        "local:qwen2.5-0.5b",
        "--backward",
        "local:qwen2.5-0.5b",
        "--steps",
        "1",
        "--run-dir",
        run,
    )
    assert_input_error(outcome, "local:", "context window")
    assert_no_run_left(cli, run)
