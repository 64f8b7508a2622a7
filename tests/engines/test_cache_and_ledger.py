"""The response cache keys and persistence, and the usage ledger's arithmetic, prices and budgets."""

from dataclasses import replace

import pytest

from dlpo.cache import ResponseCache, request_key
from dlpo.engines.base import ChatMessage, ChatRequest, Completion
from dlpo.errors import BudgetExceeded
from dlpo.usage import Budget, Ledger, price_of

BASE = ChatRequest.chat("You are terse.", "2+2?", temperature=0.0, max_tokens=16, seed=0)


@pytest.mark.parametrize(
    "changed",
    [
        replace(BASE, messages=(ChatMessage("system", "You are terse."), ChatMessage("user", "2+3?"))),
        replace(BASE, messages=(ChatMessage("system", "You are kind."), ChatMessage("user", "2+2?"))),
        replace(BASE, messages=(ChatMessage("user", "You are terse."), ChatMessage("user", "2+2?"))),
        replace(BASE, temperature=0.7),
        replace(BASE, max_tokens=17),
        replace(BASE, stop=("\n",)),
        replace(BASE, seed=1),
        replace(BASE, seed=None),
        replace(BASE, sample_index=1),
    ],
)
def test_key_differs_on_every_parameter(changed):
    assert request_key("local:a", changed) != request_key("local:a", BASE)


def test_key_equal_for_equal_requests_and_differs_by_model():
    twin = ChatRequest.chat("You are terse.", "2+2?", temperature=0.0, max_tokens=16, seed=0)
    assert twin is not BASE and request_key("m", twin) == request_key("m", BASE)
    assert request_key("local:a", BASE) != request_key("local:b", BASE)


def test_cache_survives_reopening(tmp_path):
    path = tmp_path / "c.sqlite"
    completion = Completion("four", 5, 1, 0.3, "stop", "local:a")
    cache = ResponseCache(path)
    cache.put(request_key("local:a", BASE), completion, BASE)
    cache.close()
    reopened = ResponseCache(path)
    assert reopened.get(request_key("local:a", BASE)) == completion
    assert reopened.get(request_key("local:b", BASE)) is None
    assert len(reopened) == 1


def c(p: int, q: int, cached: bool = False) -> Completion:
    return Completion("x", p, q, 0.5, cached=cached)


def test_cache_entries_give_back_each_request_and_completion_in_write_order(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    second = replace(BASE, temperature=0.7)
    cache.put(request_key("m", BASE), Completion("4", 9, 1, 0.1, model="m"), BASE)
    cache.put(request_key("m", second), Completion("4 or so", 9, 16, 0.2, finish_reason="length"), second)
    cache.put("bare", Completion("x", 1, 1, 0.0))  # stored without its request
    entries = list(cache.entries())
    assert [(r, c.text, c.finish_reason) for r, c in entries] == [
        (BASE.to_dict(), "4", "stop"),
        (second.to_dict(), "4 or so", "length"),
        ({}, "x", "stop"),
    ]


def test_ledger_arithmetic_per_role():
    ledger = Ledger()
    ledger.record("forward", "local:a", c(10, 2))
    ledger.record("forward", "local:a", c(20, 3))
    ledger.record("forward", "local:a", c(99, 99, cached=True))
    ledger.record("backward", "local:b", c(5, 7))
    fwd = ledger.roles["forward"]
    assert (fwd.calls, fwd.cache_hits, fwd.prompt_tokens, fwd.completion_tokens) == (2, 1, 30, 5)
    assert fwd.latency_s == pytest.approx(1.0)
    total = ledger.total()
    assert (total.calls, total.cache_hits, total.total_tokens) == (3, 1, 47)
    again = Ledger()
    again.load_state_dict(ledger.state_dict())
    assert again.total() == total


def test_prices():
    assert price_of("local:qwen2.5-0.5b") == (0.0, 0.0)
    assert price_of("openai:gpt-4o-mini@https://api.openai.com/v1") == (0.15, 0.60)
    assert price_of("openai:my-own-model@http://127.0.0.1:8080/v1") is None
    ledger = Ledger()
    ledger.record("forward", "openai:gpt-4o-mini", c(1_000_000, 500_000))
    assert ledger.roles["forward"].usd == pytest.approx(0.15 + 0.30)
    ledger.record("backward", "openai:unknown", c(10, 10))
    assert ledger.roles["backward"].priced is False and ledger.total().priced is False


def test_budget_checks_before_the_call():
    ledger = Ledger(budget=Budget(max_calls=3))
    ledger.record("forward", "local:a", c(1, 1))
    ledger.check_budget("forward", pending_calls=2)  # 1 + 2 <= 3
    with pytest.raises(BudgetExceeded, match="1 of 3 model calls used, 3 more needed"):
        ledger.check_budget("forward", pending_calls=3)
    tokens = Ledger(budget=Budget(max_tokens=10))
    tokens.record("forward", "local:a", c(6, 4))
    with pytest.raises(BudgetExceeded, match="token budget"):
        tokens.check_budget("forward")
    money = Ledger(budget=Budget(max_usd=0.1))
    money.record("forward", "openai:gpt-4o", c(40_000, 0))
    with pytest.raises(BudgetExceeded, match="money budget"):
        money.check_budget("forward")
