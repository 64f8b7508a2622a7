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
        keys = [request_key(self.model_id, r) for r in requests]
        misses: list[int] = []
        replays: list[tuple[int, str, Completion]] = []
        for i, key in enumerate(keys):
            found = self._lookup(key)
            if found is None:
                misses.append(i)
            elif self.ledger.is_replay(key, found[1]):
                replays.append((i, key, found[0]))
            else:
                results[i] = found[0]
                self.ledger.record(role, self.model_id, found[0], key=key)
        if misses or replays:
            # Replayed calls were calls of the run when it first asked them: checked as calls.
            self.ledger.check_budget(role, pending_calls=len(misses) + len(replays))
        for i, key, hit in replays:
            results[i] = hit
            self.ledger.record(role, self.model_id, hit, key=key, replay=True)
        if misses:
            # Wait for every request before raising, so the ones that succeed are all cached.
            done = await asyncio.gather(
                *(self._call(requests[i], keys[i], role) for i in misses), return_exceptions=True
            )
            for outcome in done:
                if isinstance(outcome, BaseException):
                    raise outcome
            for i, completion in zip(misses, done):
                results[i] = completion
        return [r for r in results if r is not None]

    def _lookup(self, key: str) -> tuple[Completion, int] | None:
        if self.cache is None or self.cache_mode != "use":
            return None
        found = self.cache.lookup(key)
        return (replace(found[0], cached=True), found[1]) if found is not None else None

    async def _call(self, request: ChatRequest, key: str, role: str) -> Completion:
        [completion] = await self.engine.complete([request])
        if self.cache is not None and self.cache_mode != "off":
            self.cache.put(key, completion, request)
        self.ledger.record(role, self.model_id, completion, key=key)
        return completion

    async def aclose(self) -> None:
        await self.engine.aclose()
