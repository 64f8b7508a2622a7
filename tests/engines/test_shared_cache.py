"""`SharedCacheEngine`: answers a request another run already made, and the ledger keeps both what
the run made and what it would have made alone (which is what budgets count)."""

from __future__ import annotations

import pytest

from dlpo.cache import ResponseCache
from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.engines.scripted import ScriptedEngine
from dlpo.engines.shared_cache import SharedCacheEngine
from dlpo.errors import BudgetExceeded
from dlpo.usage import Budget, Ledger


def ask(i: int) -> ChatRequest:
    return ChatRequest.chat("Reply with the number.", f"What is {i} + 1?", max_tokens=4)


async def test_second_run_gets_the_first_runs_answers_and_counts_them_as_shared(tmp_path):
    shared = ResponseCache(tmp_path / "shared.sqlite")
    model = ScriptedEngine(lambda r: "Answer: 1", name="m")
    first = LLMClient(SharedCacheEngine(model, shared), cache=ResponseCache(tmp_path / "a.sqlite"))
    second = LLMClient(SharedCacheEngine(model, shared), cache=ResponseCache(tmp_path / "b.sqlite"))
    a = await first.complete([ask(1), ask(2)], role="test")
    calls_after_first = len(model.requests)
    b = await second.complete([ask(1), ask(2), ask(3)], role="test")
    assert [c.text for c in b[:2]] == [c.text for c in a]
    assert len(model.requests) == calls_after_first + 1  # only the new question reached the model
    usage = second.ledger.roles["test"]
    assert (usage.calls, usage.shared_hits, usage.cache_hits, usage.calls_alone) == (1, 2, 0, 3)
    assert usage.tokens_alone == usage.total_tokens + sum(c.total_tokens for c in a)
    # a rerun of the second run replays from its own cache: hits, not shared hits
    again = LLMClient(SharedCacheEngine(model, shared), cache=second.cache)
    await again.complete([ask(1), ask(2), ask(3)], role="test")
    assert again.ledger.roles["test"].cache_hits == 3 and again.ledger.roles["test"].shared_hits == 0


async def test_budget_counts_the_calls_a_run_would_have_made_alone(tmp_path):
    shared = ResponseCache(tmp_path / "shared.sqlite")
    model = ScriptedEngine(lambda r: "ok", name="m")
    warm = LLMClient(SharedCacheEngine(model, shared))
    await warm.complete([ask(1), ask(2)], role="test")
    capped = LLMClient(SharedCacheEngine(model, shared), ledger=Ledger(budget=Budget(max_calls=2)))
    await capped.complete([ask(1), ask(2)], role="test")  # two shared hits: the whole budget
    with pytest.raises(BudgetExceeded, match="2 of 2 model calls used"):
        await capped.complete([ask(3)], role="test")
