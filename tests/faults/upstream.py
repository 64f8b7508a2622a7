"""The real local model server behind the fault proxy: the `llama-server` that scripts/setup.sh
builds (found as dlpo finds it). Killable and restartable.

One slot (`-np 1`) by default: llama.cpp's batched decoding of parallel slots is not bit-exact
(two identical runs through `-np 2` differed in the tail of one greedy answer, because which
requests share a decode batch depends on timing), and scenario (b) compares a resumed run with an
uninterrupted one event for event. `DLPO_FAULT_SLOTS=2` runs the suite on two slots anyway."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Upstream:
    """One model server process at a time on 127.0.0.1; `restart()` starts a new one (new port)."""

    def __init__(self, gguf: Path, log_dir: Path, parallel: int = 1, threads: int = 2) -> None:
        self.gguf, self.log_dir, self.parallel, self.threads = gguf, log_dir, parallel, threads
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.starts = 0

    def command(self, port: int) -> list[str]:
        from dlpo.engines.llama_server import require_llama_server

        return [str(require_llama_server()), "-m", str(self.gguf), "--alias", "qwen2.5-0.5b",
                "--host", "127.0.0.1", "--port", str(port), "-t", str(self.threads), "-np", str(self.parallel),
                "-c", str(2048 * self.parallel), "--seed", "0", "--no-webui"]  # fmt: skip

    def start(self, deadline_s: float = 120.0) -> int:
        self.port = free_port()
        self.starts += 1
        log = (self.log_dir / f"server-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(self.command(self.port), stdout=log, stderr=subprocess.STDOUT)
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"model server exited with code {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/models", timeout=2) as r:
                    if r.status == 200:
                        return self.port
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"model server not ready after {deadline_s:.0f} s")

    def kill(self) -> None:
        """SIGKILL, as a crash would (no graceful shutdown)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def restart(self) -> int:
        self.kill()
        return self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
