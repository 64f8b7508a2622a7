"""No managed llama-server outlives dlpo: after a normal end, an exception, Ctrl-C, SIGTERM, SIGKILL
of the parent, and a failed start (each checked on the real server process)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlpo.engines.llama_server import LlamaServer, ServerOptions, ServerStartError

pytestmark = [pytest.mark.model, pytest.mark.server]
CHILD = Path(__file__).with_name("lifecycle_child.py")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(0): it is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def all_gone(info: dict, within_s: float = 15.0) -> bool:
    pids = [info["watchdog"], *info["server"]]
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        if not any(alive(p) for p in pids) and not port_open(int(info["port"])):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def child(restore_sigint):
    """Start lifecycle_child.py in a mode; killed at the end of the test whatever happened."""
    procs: list[subprocess.Popen] = []

    def start(mode: str) -> tuple[subprocess.Popen, dict]:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=restore_sigint,  # noqa: PLW1509
        )
        procs.append(proc)
        line = proc.stdout.readline()
        assert line, f"the child printed nothing: {proc.stderr.read()[-2000:]}"
        info = json.loads(line)
        assert len(info["server"]) == 1 and alive(info["server"][0]) and port_open(int(info["port"]))
        return proc, info

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("mode", ["exit", "close", "raise"])
def test_no_server_left_after_the_process_ends(small_model_path, child, mode):
    proc, info = child(mode)
    proc.wait(timeout=120)
    assert proc.returncode == (1 if mode == "raise" else 0)
    assert all_gone(info), f"a llama-server outlived its parent ({mode})"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_no_server_left_after_a_signal_mid_request(small_model_path, child, sig):
    proc, info = child("wait")
    time.sleep(1.0)  # the long request is in flight
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert all_gone(info), f"a llama-server outlived its parent ({sig.name})"


def test_a_corrupt_model_file_is_a_one_line_error_and_leaves_nothing(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(4096))
    server = LlamaServer(bad, "broken", ServerOptions(slots=1, ctx_per_slot=512))
    with pytest.raises(ServerStartError, match=r"could not load the model file") as err:
        server.start(timeout_s=60)
    assert "\n" not in str(err.value) and err.value.exit_code == 2
    assert not server.running


def test_a_taken_port_is_a_one_line_error(small_model_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = LlamaServer(small_model_path, "small", ServerOptions(slots=1, ctx_per_slot=512), port=port)
        with pytest.raises(ServerStartError, match=rf"port 127.0.0.1:{port} is already in use"):
            server.start(timeout_s=60)
    assert not server.running


def test_cli_reports_a_missing_binary_and_a_corrupt_model_with_exit_2(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(4096))
    dlpo = [sys.executable, "-m", "dlpo.cli.app"]
    env = {**os.environ, "DLPO_LLAMA_SERVER": str(tmp_path / "no-such-binary")}
    missing = subprocess.run(
        [*dlpo, "chat", "--no-cache", "hi"], capture_output=True, text=True, env=env, check=False
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("error: llama-server at") and missing.stderr.count("\n") == 1
    corrupt = subprocess.run(
        [*dlpo, "chat", "--no-cache", "-e", f"local:{bad}", "hi"], capture_output=True, text=True, check=False
    )
    assert corrupt.returncode == 2, corrupt.stderr
    assert "could not load the model file" in corrupt.stderr and corrupt.stderr.count("\n") == 1
