"""A managed `llama-server` process: llama.cpp's own OpenAI-compatible server for one GGUF model.

`LlamaServer.start()` launches the binary on a free loopback port with N parallel slots
(continuous batching), a context of N x `ctx_per_slot` tokens, one thread per core and prompt
caching, through `dlpo.engines.watchdog` so that the server never outlives the dlpo process; it
waits for `/health` and returns the base URL. `stop()` ends it (also registered with `atexit`).
A server that cannot start (binary missing, port taken, model file unreadable or corrupt) raises
`ServerStartError`: one line saying which, exit code 2.

The binary is found, in order: `$DLPO_LLAMA_SERVER`; `llama-server` beside the running Python
(scripts/setup.sh installs it into the virtual environment's bin/); `llama-server` on PATH; the
newest build in the user cache (`~/.cache/dlpo/llama-server/*/llama-server`).

Each start records the binary's `build_id` (`LlamaServer.build`): builds of the same llama.cpp
source for different CPUs (AVX2 vs AVX-512) give different greedy answers, so results name the
build (source and CPU flags) that made them, not only the version.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from dlpo.engines.models import sha256_file
from dlpo.errors import ModelInstallError

SERVER_ENV = "DLPO_LLAMA_SERVER"
BUILD_HINT = "build it with scripts/setup.sh, or set $DLPO_LLAMA_SERVER to a llama-server binary"
_PORT_TRIES = 3


class ServerStartError(ModelInstallError):
    """A managed llama-server did not come up (exit code 2: the set-up or the input is wrong)."""


def cpu_cores() -> int:
    """Cores this process may run on (the container's share, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlpo" / "llama-server"


def find_llama_server() -> Path | None:
    """The llama-server binary to use, or None (see the module docstring for the search order)."""
    env = os.environ.get(SERVER_ENV)
    if env:
        return Path(env).expanduser()
    beside = Path(sys.executable).parent / "llama-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    on_path = shutil.which("llama-server")
    if on_path:
        return Path(on_path)
    builds = sorted(cache_root().glob("*/llama-server"), key=lambda p: p.stat().st_mtime, reverse=True)
    return builds[0] if builds else None


def require_llama_server() -> Path:
    binary = find_llama_server()
    if binary is None:
        raise ServerStartError(f"llama-server not found; {BUILD_HINT}")
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise ServerStartError(f"llama-server at {binary} is not an executable file; {BUILD_HINT}")
    return binary


BUILD_SIDECAR = ".build"  # scripts/setup.sh writes `<binary>.build`: "<sdist version>-<flags hash>"


def build_id(binary: str | Path) -> str:
    """Which build of llama-server this is: `<llama.cpp commit>/<build>`.

    `<build>` is `<source version>-<flags hash>` from the `<binary>.build` file scripts/setup.sh
    writes beside the binaries it builds (e.g. `0c1e570/0.3.36-03e3e7086901`): the same source and
    flags give the same numerics on any machine, while the binary's bytes differ from build to build
    (they embed the build directory). For any other binary it is `sha256-<12 hex of its bytes>`.
    The commit, read from `--version`, is "unknown" when the binary does not say it."""
    path = Path(binary)
    try:
        build = path.with_name(path.name + BUILD_SIDECAR).read_text().split()[0]
    except (OSError, IndexError):
        build = f"sha256-{sha256_file(path)[:12]}"
    try:
        out = subprocess.run(
            [str(path), "--version"],
            check=False,
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
        )
        found = re.search(r"commit ([0-9a-fA-F]+)", out.stdout + out.stderr)
    except (OSError, subprocess.SubprocessError):
        found = None
    return f"{found.group(1) if found else 'unknown'}/{build}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ServerOptions:
    """How a managed server runs. `slots` parallel sequences share one model and are decoded in one
    batch (continuous batching); the context holds `ctx_per_slot` tokens per slot. `threads=None`
    uses every core. `batch`/`ubatch` are llama.cpp's logical/physical batch sizes (None = its
    defaults). `extra` are further llama-server arguments, passed as they are."""

    slots: int = 4
    ctx_per_slot: int = 4096
    threads: int | None = None
    batch: int | None = None
    ubatch: int | None = None
    extra: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.slots < 1:
            raise ValueError("slots must be >= 1")
        if self.ctx_per_slot < 256:
            raise ValueError("ctx_per_slot must be >= 256")

    def args(self) -> list[str]:
        threads = self.threads or cpu_cores()
        out = ["--parallel", str(self.slots), "--ctx-size", str(self.slots * self.ctx_per_slot)]
        out += ["--threads", str(threads), "--threads-batch", str(threads)]
        if self.batch:
            out += ["--batch-size", str(self.batch)]
        if self.ubatch:
            out += ["--ubatch-size", str(self.ubatch)]
        return out + list(self.extra)


@dataclass
class LlamaServer:
    """One llama-server process for one model file. Not started until `start()`."""

    model_path: Path
    alias: str
    options: ServerOptions = field(default_factory=ServerOptions)
    host: str = "127.0.0.1"
    port: int | None = None  # None: a free port is chosen at each start
    binary: Path | None = None
    seed: int = 0
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _log_path: Path | None = field(default=None, init=False, repr=False)
    _bound_port: int = field(default=0, init=False, repr=False)
    _binary: Path = field(default=Path(), init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    starts: int = field(default=0, init=False)
    build: str | None = field(default=None, init=False)  # `build_id` of the binary, once started

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._bound_port}/v1"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The watchdog's pid (the server is its only child)."""
        return self._proc.pid if self._proc is not None else None

    def command(self, port: int) -> list[str]:
        binary = self.binary or require_llama_server()
        return [
            str(binary),
            "--model", str(self.model_path),
            "--alias", self.alias,
            "--host", self.host,
            "--port", str(port),
            "--seed", str(self.seed),
            "--no-webui",
            *self.options.args(),
        ]  # fmt: skip

    def start(self, timeout_s: float = 300.0) -> str:
        """Start the server (if not running) and wait until it answers `/health`; the base URL."""
        with self._lock:
            if self.running:
                return self.base_url
            if not Path(self.model_path).is_file():
                raise ServerStartError(f"model file not found: {self.model_path}")
            tries = 1 if self.port is not None else _PORT_TRIES
            for attempt in range(1, tries + 1):
                port = self.port if self.port is not None else free_port(self.host)
                self._launch(port)
                problem = self._wait_healthy(timeout_s)
                if problem is None:
                    self.starts += 1
                    self.build = build_id(self._binary)
                    atexit.register(self.stop)
                    return self.base_url
                self._kill()
                if problem != "port" or attempt == tries:
                    raise ServerStartError(self._explain(problem, port))
        raise AssertionError("unreachable")

    def _launch(self, port: int) -> None:
        command = self.command(port)
        self._binary = Path(command[0])
        fd, log = tempfile.mkstemp(prefix=f"dlpo-llama-server-{self.alias}-", suffix=".log")
        self._log_path = Path(log)
        watchdog = [sys.executable, "-m", "dlpo.engines.watchdog", str(os.getpid()), "--", *command]
        with os.fdopen(fd, "wb") as out:
            self._proc = subprocess.Popen(
                watchdog, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._bound_port = port

    def _wait_healthy(self, timeout_s: float) -> str | None:
        """None when healthy, else why not: 'port', 'model', 'exit' or 'timeout'."""
        assert self._proc is not None
        deadline = time.monotonic() + timeout_s
        url = f"http://{self.host}:{self._bound_port}/health"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return _classify(self.log_tail())
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    if reply.status == 200 and _is_ok(reply.read()):
                        return None
            except urllib.error.HTTPError:  # 503 while the model loads
                pass
            except OSError:
                pass
            time.sleep(0.1)
        return "timeout"

    def _explain(self, problem: str, port: int) -> str:
        what = f"llama-server for {self.alias} ({self.model_path})"
        last = _last_error_line(self.log_tail())
        if problem == "port":
            return f"{what}: port {self.host}:{port} is already in use; choose another port"
        if problem == "model":
            return f"{what} could not load the model file (corrupt or not a GGUF model?): {last}"
        if problem == "timeout":
            return f"{what} did not answer /health in time; log: {self._log_path}"
        return f"{what} exited at start-up: {last} (log: {self._log_path})"

    def log_tail(self, limit: int = 8000) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        data = self._log_path.read_bytes()[-limit:]
        return data.decode("utf-8", errors="replace")

    def stop(self) -> None:
        """Stop the server (SIGTERM to the watchdog, which stops the server); idempotent."""
        with self._lock:
            atexit.unregister(self.stop)
            proc, self._proc = self._proc, None
            if proc is None:
                return
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    _killpg(proc)
            if proc.stdin is not None:
                proc.stdin.close()
            if self._log_path is not None and proc.returncode == 0:
                self._log_path.unlink(missing_ok=True)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _killpg(proc)
            if proc.stdin is not None:
                proc.stdin.close()


def _killpg(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _is_ok(body: bytes) -> bool:
    try:
        return json.loads(body or b"{}").get("status", "ok") == "ok"
    except ValueError:
        return True


_PORT_PATTERNS = re.compile(r"couldn't bind|address already in use|failed to bind", re.IGNORECASE)
_MODEL_PATTERNS = re.compile(
    r"failed to load model|error loading model|gguf_init|invalid magic|failed to read|not a gguf",
    re.IGNORECASE,
)


def _classify(log: str) -> str:
    if _PORT_PATTERNS.search(log):
        return "port"
    if _MODEL_PATTERNS.search(log):
        return "model"
    return "exit"


def _last_error_line(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.search(r"error|failed|invalid|couldn't|unable", line, re.IGNORECASE):
            return line[:300]
    return lines[-1][:300] if lines else "no output"
