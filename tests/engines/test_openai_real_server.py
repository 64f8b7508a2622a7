"""The `openai` engine against a real OpenAI-compatible server (a real llama-server on the 0.5B model)."""

from __future__ import annotations

import pytest

from dlpo.cache import ResponseCache
from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.engines.spec import build_engine
from dlpo.errors import EngineError

pytestmark = [pytest.mark.server, pytest.mark.model]


def questions() -> list[ChatRequest]:
    return [
        ChatRequest.chat("Reply with the number only.", f"What is {a} + {b}?", max_tokens=6)
        for a, b in ((1, 2), (10, 5), (7, 7), (20, 22))
    ]


async def test_batch_in_flight_then_all_from_cache(llama_server, tmp_path):
    engine = build_engine(f"{llama_server.spec}")
    engine.concurrency = 4
    client = LLMClient(engine, cache=ResponseCache(tmp_path / "c.sqlite"))
    first = await client.complete(questions(), role="forward")
    assert engine.attempts == 4
    assert all(c.text.strip() for c in first)
    assert all(c.prompt_tokens > 0 and c.completion_tokens > 0 for c in first)
    assert "42" in first[3].text
    second = await client.complete(questions(), role="forward")
    assert engine.attempts == 4, "the second identical batch must not reach the server"
    assert [c.text for c in second] == [c.text for c in first] and all(c.cached for c in second)
    usage = client.ledger.roles["forward"]
    assert (usage.calls, usage.cache_hits) == (4, 4)
    await client.aclose()


async def test_context_overflow_is_not_retried(llama_server):
    engine = build_engine(llama_server.spec)
    long = ChatRequest.chat("s", "word " * 3000, max_tokens=4)
    with pytest.raises(EngineError) as err:
        await engine.complete([long])
    assert engine.attempts == 1
    assert str(err.value).startswith(
        f"{engine.cache_id}: 400 Bad Request — the request is longer than the model's context window"
    )
    await engine.aclose()
