"""`SharedCacheEngine`: an engine decorator that answers from a cache shared by several runs.

The trials of a sweep evaluate many identical requests (every trial of a task tests the same
starting prompt on the same questions; methods that propose the same candidate score it on the
same acceptance set). Wrapping each trial's engines in a `SharedCacheEngine` over one sweep-wide
`ResponseCache` makes the model answer each distinct request once per sweep.

A shared hit is returned with `extra["shared_hit"] = True`, latency 0 and the original token counts;
the run's `Ledger` counts it as a *shared hit*, not as a model call, and keeps what it would have
cost the run alone (`calls_alone`, `tokens_alone`), so cost comparisons between trials do not depend
on which trial happened to ask first. The run's own cache stores the answer as usual, so a resumed
or re-run trial replays it from its own folder.

On a backend that is deterministic for the request (one slot, greedy) a shared answer is the one the
trial would have got alone; with parallel slots it may differ in the tail of a long greedy answer,
exactly as two runs of the same trial may.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dlpo.cache import ResponseCache, request_key
from dlpo.engines.base import ChatRequest, Completion, Engine


class SharedCacheEngine:
    """`engine` with a read-through, write-through `cache` in front of it."""

    def __init__(self, engine: Engine, cache: ResponseCache) -> None:
        self.engine = engine
        self.cache = cache

    @property
    def cache_id(self) -> str:
        return self.engine.cache_id

    @property
    def supports_json_schema(self) -> bool:
        return bool(getattr(self.engine, "supports_json_schema", False))

    def __repr__(self) -> str:
        return f"SharedCacheEngine({self.engine!r}, cache={str(self.cache.path)!r})"

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        results: list[Completion | None] = [None] * len(requests)
        misses: list[int] = []
        for i, request in enumerate(requests):
            hit = self.cache.get(request_key(self.cache_id, request))
            if hit is None:
                misses.append(i)
            else:
                results[i] = replace(hit, latency_s=0.0, extra={**hit.extra, "shared_hit": True})
        if misses:
            answered = await self.engine.complete([requests[i] for i in misses])
            for i, completion in zip(misses, answered, strict=True):
                self.cache.put(request_key(self.cache_id, requests[i]), completion, requests[i])
                results[i] = completion
        return [r for r in results if r is not None]

    async def aclose(self) -> None:
        """The wrapped engine belongs to whoever built it; the cache to the sweep."""
        return
