"""How much time does dlpo's `openai` engine add on top of the server's own work?

Sends N short requests through `LLMClient` + `OpenAIEngine` to a local `llama-server` at
concurrency 1, 2 and 4, and compares our wall time with the server's busy time, computed from the
`timings` each llama-server reply carries (prompt_ms + predicted_ms): each request's server work is
placed just before the moment its reply arrived, and the union of those intervals is the busy
time. Overhead = (our wall time - server busy time) / our wall time (target: <= 5%). It also times
a cached rerun against the first run.

The server is the one the `local` engine manages (`dlpo.engines.llama_server`, the binary
scripts/setup.sh builds), started here with as many slots as the highest concurrency.

    .venv/bin/python benchmarks/engine_overhead.py [--n 8] [--max-tokens 32] [--model qwen2.5-0.5b]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from dlpo.cache import ResponseCache
from dlpo.engines.base import ChatRequest, Completion
from dlpo.engines.client import LLMClient
from dlpo.engines.models import MODELS, ensure_model
from dlpo.engines.openai_engine import OpenAIEngine


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
    from dlpo.engines.llama_server import LlamaServer, ServerOptions

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-0.5b", choices=sorted(MODELS))
    parser.add_argument("--n", type=int, default=8, help="requests per concurrency level")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4])
    args = parser.parse_args()
    parallel = max(args.concurrency)
    server = LlamaServer(
        ensure_model(args.model), args.model, ServerOptions(slots=parallel, ctx_per_slot=2048)
    )
    print(f"llama-server slots {parallel}; model {args.model}; {args.n} requests x {args.max_tokens} tokens")
    try:
        asyncio.run(run(server.start(), args))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
