"""LLMClient: cache hits make no engine calls, budgets stop before calling, failures keep work."""

import asyncio

import pytest

from dlpo.cache import ResponseCache
from dlpo.engines.base import ChatRequest, Completion
from dlpo.engines.client import LLMClient
from dlpo.engines.scripted import ScriptedEngine
from dlpo.errors import BudgetExceeded, EngineError
from dlpo.usage import Budget, Ledger


def batch(n: int, prefix: str = "q") -> list[ChatRequest]:
    return [ChatRequest.chat("sys", f"{prefix}{i}") for i in range(n)]


async def test_second_identical_batch_is_all_cache_hits(tmp_path):
    engine = ScriptedEngine(lambda r: r.messages[-1].content.upper())
    client = LLMClient(engine, cache=ResponseCache(tmp_path / "c.sqlite"))
    first = await client.complete(batch(4), role="forward")
    calls = len(engine.requests)
    second = await client.complete(batch(4), role="forward")
    assert calls == 4 and len(engine.requests) == calls
    assert [c.text for c in second] == [c.text for c in first] == ["Q0", "Q1", "Q2", "Q3"]
    assert all(c.cached for c in second) and not any(c.cached for c in first)
    usage = client.ledger.roles["forward"]
    assert (usage.calls, usage.cache_hits) == (4, 4)


async def test_mixed_batch_calls_only_the_misses(tmp_path):
    engine = ScriptedEngine(lambda r: "a")
    client = LLMClient(engine, cache=ResponseCache(tmp_path / "c.sqlite"))
    await client.complete(batch(2), role="forward")
    out = await client.complete(batch(3), role="forward")
    assert len(engine.requests) == 3 and [c.cached for c in out] == [True, True, False]


async def test_cache_modes(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    engine = ScriptedEngine(lambda r: "a")
    await LLMClient(engine, cache=cache).complete(batch(1), role="forward")
    await LLMClient(engine, cache=cache, cache_mode="refresh").complete(batch(1), role="forward")
    assert len(engine.requests) == 2
    await LLMClient(engine, cache=cache, cache_mode="off").complete(batch(1, "new"), role="forward")
    assert len(cache) == 1  # "off" neither reads nor writes


class FailingEngine:
    """Fails on user message 'bad' after the others have had time to finish."""

    cache_id = "fake:failing"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, requests):
        [request] = requests
        self.calls += 1
        text = request.messages[-1].content
        if text == "bad":
            await asyncio.sleep(0.01)
            raise EngineError("fake:failing: 500 after retries")
        await asyncio.sleep(0.05 if text == "slow" else 0)
        return [Completion(text.upper(), 1, 1, 0.0, model=self.cache_id)]

    async def aclose(self):
        return None


async def test_failure_in_a_batch_keeps_the_finished_requests_cached(tmp_path):
    engine = FailingEngine()
    client = LLMClient(engine, cache=ResponseCache(tmp_path / "c.sqlite"))
    requests = [ChatRequest.chat("sys", t) for t in ("ok", "bad", "slow")]
    with pytest.raises(EngineError):
        await client.complete(requests, role="forward")
    assert len(client.cache) == 2  # "slow" finished after "bad" failed, and is kept too
    engine.calls = 0
    out = await client.complete([requests[0], requests[2]], role="forward")
    assert engine.calls == 0 and [c.text for c in out] == ["OK", "SLOW"]


async def test_budget_stops_before_calling_and_keeps_results(tmp_path):
    engine = ScriptedEngine(lambda r: "a")
    client = LLMClient(
        engine, cache=ResponseCache(tmp_path / "c.sqlite"), ledger=Ledger(budget=Budget(max_calls=3))
    )
    await client.complete(batch(2), role="forward")
    with pytest.raises(BudgetExceeded):
        await client.complete(batch(4), role="forward")  # needs 2 more calls, 1 left
    assert len(engine.requests) == 2, "nothing is sent when the batch would break the budget"
    again = await client.complete(batch(2), role="forward")  # cache hits are free
    assert all(c.cached for c in again) and len(client.cache) == 2
