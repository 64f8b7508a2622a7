"""`LLMClient`: any `Engine` plus the response cache, the usage ledger and budgets.

All library code talks to models through an `LLMClient`, never to an engine directly, so that
every call is cached (a rerun makes zero model calls), counted per role and held to the budget.
Each request of a batch is cached as soon as it completes, so a batch that fails half-way keeps
the finished half.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from dlpo.cache import CacheMode, ResponseCache, request_key
from dlpo.engines.base import ChatRequest, Completion, Engine
from dlpo.usage import Ledger


class LLMClient:
    """Cached, accounted access to one engine.

    `cache=None` disables caching. `ledger` defaults to a fresh one; share one ledger between the
    forward and backward clients of a run to get a single account per role.
    """

    def __init__(
        self,
        engine: Engine,
        cache: ResponseCache | None = None,
        ledger: Ledger | None = None,
        cache_mode: CacheMode = "use",
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.ledger = ledger if ledger is not None else Ledger()
        self.cache_mode: CacheMode = cache_mode

    @property
    def model_id(self) -> str:
        return self.engine.cache_id

    async def complete(self, requests: Sequence[ChatRequest], role: str) -> list[Completion]:
        """Answer `requests` in order, from the cache where possible, recording usage for `role`."""
        results: list[Completion | None] = [None] * len(requests)
        misses: list[int] = []
        for i, request in enumerate(requests):
            hit = self._lookup(request)
            if hit is not None:
                results[i] = hit
                self.ledger.record(role, self.model_id, hit)
            else:
                misses.append(i)
        if misses:
            self.ledger.check_budget(role, pending_calls=len(misses))
            # Wait for every request before raising, so the ones that succeed are all cached.
            done = await asyncio.gather(
                *(self._call(requests[i], role) for i in misses), return_exceptions=True
            )
            for outcome in done:
                if isinstance(outcome, BaseException):
                    raise outcome
            for i, completion in zip(misses, done):
                results[i] = completion
        return [r for r in results if r is not None]

    def _lookup(self, request: ChatRequest) -> Completion | None:
        if self.cache is None or self.cache_mode != "use":
            return None
        hit = self.cache.get(request_key(self.model_id, request))
        return replace(hit, cached=True) if hit is not None else None

    async def _call(self, request: ChatRequest, role: str) -> Completion:
        [completion] = await self.engine.complete([request])
        if self.cache is not None and self.cache_mode != "off":
            self.cache.put(request_key(self.model_id, request), completion, request)
        self.ledger.record(role, self.model_id, completion)
        return completion

    async def aclose(self) -> None:
        await self.engine.aclose()
