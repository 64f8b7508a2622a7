"""`dlpo serve`: the embedded model as a persistent OpenAI-compatible endpoint that another process
uses through the printed spec; Ctrl-C stops it and leaves no server behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from dlpo.engines.base import ChatRequest, run_sync
from dlpo.engines.spec import build_engine

pytestmark = [pytest.mark.model, pytest.mark.server]


def _closed(url: str) -> bool:
    import urllib.request

    try:
        urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=1)
    except OSError:
        return True
    return False


def test_serve_prints_specs_that_other_processes_use_and_stops_on_ctrl_c(small_model_path, restore_sigint):
    cmd = [sys.executable, "-m", "dlpo.cli.app", "serve", "--which", "small", "--slots", "2", "--json"]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=restore_sigint,  # noqa: PLW1509
    )
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()[-2000:]
        specs = json.loads(line)
        spec = specs["qwen2.5-0.5b"]
        assert spec.startswith("openai:qwen2.5-0.5b@http://127.0.0.1:")
        engine = build_engine(spec)
        request = ChatRequest.chat("Reply with the number only.", "What is 20 + 22?", max_tokens=6)

        async def ask() -> list:
            try:
                return await engine.complete([request, request])
            finally:
                await engine.aclose()

        out = run_sync(ask())
        assert all("42" in c.text for c in out)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        url = spec.split("@", 1)[1]
        end = time.monotonic() + 10
        while not _closed(url) and time.monotonic() < end:
            time.sleep(0.2)
        assert _closed(url), "the server outlived `dlpo serve`"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
