"""The real `local` engine: a managed llama-server on the 0.5B model (greedy, a few short requests)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal

import pytest

from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.engines.local_engine import LocalEngine, local_cache_id
from dlpo.engines.spec import build_engine
from dlpo.errors import EngineError, ModelInstallError

pytestmark = pytest.mark.model

QUESTION = ChatRequest.chat(
    "You are a calculator. Reply with the number only.", "What is 12 + 30?", temperature=0.0, max_tokens=8
)


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_answers_counts_tokens_and_is_deterministic_on_one_slot(small_model_path):
    engine = build_engine({"kind": "local", "model": "qwen2.5-0.5b", "slots": 1})
    client = LLMClient(engine)  # no cache: both calls reach the model
    try:
        first = (await client.complete([QUESTION], role="forward"))[0]
        second = (await client.complete([QUESTION], role="forward"))[0]
    finally:
        await client.aclose()
    assert "42" in first.text
    assert first.prompt_tokens > 10 and 0 < first.completion_tokens <= 8
    assert first.model == "local:qwen2.5-0.5b" and not first.cached
    assert second.text == first.text and second.completion_tokens == first.completion_tokens
    assert client.ledger.roles["forward"].calls == 2
    # each answer names the server binary that made it, and the ledger keeps that build
    build = engine.server.build
    assert re.fullmatch(r"([0-9a-f]+|unknown)/([0-9.]+-|sha256-)[0-9a-f]{12}", build)
    assert first.extra["build"] == second.extra["build"] == build
    assert client.ledger.builds == {"local:qwen2.5-0.5b": {build}}


async def test_parallel_slots_answer_a_batch_concurrently_and_keep_the_loop_free(small_model_path):
    engine = LocalEngine(f"{small_model_path}", slots=4, ctx_per_slot=1024)
    assert engine.cache_id == "local:qwen2.5-0.5b"  # the verified file maps to the registry name
    requests = [
        ChatRequest.chat("Reply with the number only.", f"What is {a} + {b}?", max_tokens=6)
        for a, b in ((1, 2), (10, 5), (7, 7), (20, 22))
    ]
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    try:
        out = await engine.complete(requests)
    finally:
        task.cancel()
        server = engine.server
        await engine.aclose()
    assert "42" in out[3].text and all(c.text.strip() for c in out)
    assert ticks > 5, "requests must not block the event loop"
    # llama-server reports per-request timings; four requests in flight share the decode loop
    assert all("timings" in c.extra for c in out)
    assert server is not None and not server.running and not alive(server.pid)


async def test_stop_and_length_finish(small_model_path):
    engine = LocalEngine("qwen2.5-0.5b", slots=1)
    request = ChatRequest.chat("You are helpful.", "Count from 1 to 20, separated by spaces.", max_tokens=3)
    try:
        [c] = await engine.complete([request])
    finally:
        await engine.aclose()
    assert c.finish_reason == "length" and c.completion_tokens == 3


async def test_prompt_longer_than_the_slot_context_is_a_clear_error(small_model_path):
    engine = LocalEngine("qwen2.5-0.5b", slots=1, ctx_per_slot=256)
    long = ChatRequest.chat("You are helpful.", "word " * 400, max_tokens=4)
    try:
        with pytest.raises(EngineError, match=r"^local:qwen2.5-0.5b: .*context"):
            await engine.complete([long])
    finally:
        await engine.aclose()


async def test_missing_file(tmp_path):
    engine = LocalEngine(tmp_path / "absent.gguf")
    assert engine.cache_id == "local:absent.gguf#0"
    assert local_cache_id("qwen2.5-1.5b") == "local:qwen2.5-1.5b"
    with pytest.raises(ModelInstallError, match="model file not found"):
        await engine.complete([QUESTION])


async def test_sampling_is_reproducible_for_a_seed(small_model_path):
    engine = LocalEngine("qwen2.5-0.5b", slots=1)
    request = ChatRequest.chat(
        "You are a poet.", "One line about rain.", temperature=0.9, max_tokens=12, seed=3
    )
    try:
        [a] = await engine.complete([request])
        [b] = await engine.complete([request])
    finally:
        await engine.aclose()
    assert a.text == b.text and a.text.strip()


async def test_structured_output_follows_the_schema(small_model_path):
    schema = '{"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}'
    request = ChatRequest(QUESTION.messages, max_tokens=20, json_schema=schema)
    engine = LocalEngine("qwen2.5-0.5b", slots=1)
    try:
        [c] = await engine.complete([request])
    finally:
        await engine.aclose()
    assert isinstance(json.loads(c.text)["answer"], int)


async def test_a_server_that_dies_mid_run_is_started_again(small_model_path):
    engine = LocalEngine("qwen2.5-0.5b", slots=1, max_retries=0)
    try:
        [first] = await engine.complete([QUESTION])
        server = engine.server
        assert server is not None and server.running
        os.killpg(server.pid, signal.SIGKILL)  # as if the server had crashed
        await asyncio.sleep(0.5)
        [again] = await engine.complete([QUESTION])
    finally:
        await engine.aclose()
    assert again.text == first.text and engine.restarts == 1


def test_one_server_serves_trials_on_successive_event_loops(small_model_path, caplog):
    """A sweep runs each trial on its own loop and keeps the local server: releasing the client at
    the end of a loop leaves the server up (same process, no restart) and nothing for a dead loop."""
    import gc
    import logging

    engine = LocalEngine("qwen2.5-0.5b", slots=1, max_retries=0)

    async def trial() -> str:
        try:
            [answer] = await engine.complete([QUESTION])
            gc.collect()  # a client of an earlier loop, collected now, closes itself on this loop
            await asyncio.sleep(0.2)
        finally:
            await engine.release_client()
        return answer.text

    caplog.set_level(logging.ERROR, logger="asyncio")
    try:
        first = asyncio.run(trial())
        pid = engine.server.pid
        second = asyncio.run(trial())
        same_server = engine.server.pid == pid and engine.server.running
        gc.collect()
    finally:
        engine.close()
    assert second == first and "42" in first
    assert same_server and engine.server.starts == 1 and engine.restarts == 0
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
