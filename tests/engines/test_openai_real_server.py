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


def test_successive_event_loops_leave_no_task_on_a_dead_loop(llama_server, caplog):
    """A sweep runs each trial on its own event loop with the same engine: the client of a finished
    loop is closed when the next loop makes its own, not left to the SDK's finalizer (which would
    close it in a task on the new loop: "Task exception was never retrieved ... loop is closed")."""
    import asyncio
    import gc
    import logging

    engine = build_engine(llama_server.spec)

    async def trial() -> str:
        [answer] = await engine.complete(questions()[3:])
        gc.collect()  # a client of an earlier loop, collected now, would close itself on this loop
        await asyncio.sleep(0.2)
        return answer.text

    caplog.set_level(logging.ERROR, logger="asyncio")
    first = asyncio.run(trial())
    second = asyncio.run(trial())
    asyncio.run(engine.release_client())
    gc.collect()
    assert "42" in first and second == first
    assert engine._client is None
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
