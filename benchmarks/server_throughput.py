"""The managed llama-server's own throughput: one stream against N parallel slots, per setting.

For each model and each server setting (threads, micro-batch, weight repacking, ...) it starts the
server (dlpo's `LlamaServer`, the binary scripts/setup.sh builds), then
  * one slot: `n` requests one after another;
  * `slots` slots: the same `n` requests all in flight at once (continuous batching);
each request a distinct short prompt with exactly `tokens` generated tokens (`ignore_eos`), and
prints generated tokens per second for both and their ratio. Prompt caching is off so every request
pays its prefill, as in a real run's first pass. `measure()` is reused by benchmarks/main_job.py.

    .venv/bin/python benchmarks/server_throughput.py [--models qwen2.5-0.5b,qwen2.5-1.5b]
        [--slots 4] [--n 8] [--tokens 128] [--variants default,ub128,norepack,t1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass

import httpx

from dlpo.engines.llama_server import LlamaServer, ServerOptions
from dlpo.engines.models import ensure_model

TOPICS = (
    "rain",
    "a lighthouse",
    "bread",
    "a fox",
    "winter",
    "a train",
    "the sea",
    "a clock",
    "paper",
    "stars",
)
VARIANTS: dict[str, dict] = {
    "default": {},
    "ub128": {"ubatch": 128},
    "ub2048": {"ubatch": 2048, "batch": 2048},
    "norepack": {"extra": ("--no-repack",)},
    "t1": {"threads": 1},
    "nowarmup": {"extra": ("--no-warmup",)},
    "fa": {"extra": ("--flash-attn", "on")},
    "kvq8": {"extra": ("--flash-attn", "on", "--cache-type-k", "q8_0", "--cache-type-v", "q8_0")},
}


@dataclass
class Throughput:
    model: str
    variant: str
    single_tok_s: float
    parallel_tok_s: float

    @property
    def ratio(self) -> float:
        return self.parallel_tok_s / self.single_tok_s


async def _post(client: httpx.AsyncClient, url: str, i: int, tokens: int) -> int:
    body = {
        "messages": [
            {"role": "system", "content": "You are a storyteller."},
            {"role": "user", "content": f"Tell a long story about {TOPICS[i % len(TOPICS)]} (#{i})."},
        ],
        "max_tokens": tokens,
        "temperature": 0.0,
        "ignore_eos": True,
        "cache_prompt": False,
    }
    reply = await client.post(url, json=body, timeout=900)
    reply.raise_for_status()
    return int(reply.json()["usage"]["completion_tokens"])


async def _rate(base_url: str, n: int, tokens: int, concurrent: bool) -> float:
    url = base_url + "/chat/completions"
    async with httpx.AsyncClient() as client:
        await _post(client, url, 999, 8)  # warm the server up
        start = time.perf_counter()
        if concurrent:
            counts = await asyncio.gather(*(_post(client, url, i, tokens) for i in range(n)))
        else:
            counts = [await _post(client, url, i, tokens) for i in range(n)]
        return sum(counts) / (time.perf_counter() - start)


def measure(
    model: str, variant: str = "default", slots: int = 4, n: int = 8, tokens: int = 128
) -> Throughput:
    """tok/s of one slot (sequential) and of `slots` slots (all `n` requests at once)."""
    path = ensure_model(model, progress=False)
    rates = []
    for s, concurrent in ((1, False), (slots, True)):
        options = ServerOptions(slots=s, ctx_per_slot=1024, **VARIANTS[variant])
        server = LlamaServer(path, model, options)
        try:
            base_url = server.start()
            rates.append(asyncio.run(_rate(base_url, n, tokens, concurrent)))
        finally:
            server.stop()
    return Throughput(model, variant, rates[0], rates[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="qwen2.5-0.5b,qwen2.5-1.5b")
    parser.add_argument("--variants", default="default")
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--json", action="store_true", help="Print the rows as JSON lines too.")
    args = parser.parse_args()
    print(f"| model | setting | 1 slot tok/s | {args.slots} slots tok/s | ratio |")
    print("|---|---|---|---|---|")
    for model in args.models.split(","):
        for variant in args.variants.split(","):
            t = measure(model, variant, args.slots, args.n, args.tokens)
            print(f"| {model} | {variant} | {t.single_tok_s:.1f} | {t.parallel_tok_s:.1f} | {t.ratio:.2f}x |")
            if args.json:
                print(json.dumps(vars(t) | {"ratio": t.ratio}))


if __name__ == "__main__":
    main()
