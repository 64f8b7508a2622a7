"""The real in-process engine on the 0.5B model (greedy, a few short requests)."""

from __future__ import annotations

import asyncio

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


async def test_answers_counts_tokens_and_is_deterministic(small_model_path):
    engine = build_engine("local:qwen2.5-0.5b")
    client = LLMClient(engine)  # no cache: both calls reach the model
    first = (await client.complete([QUESTION], role="forward"))[0]
    second = (await client.complete([QUESTION], role="forward"))[0]
    assert first.text.strip() != ""
    assert "42" in first.text
    assert first.prompt_tokens > 10 and 0 < first.completion_tokens <= 8
    assert first.model == "local:qwen2.5-0.5b" and not first.cached
    assert second.text == first.text and second.completion_tokens == first.completion_tokens
    assert client.ledger.roles["forward"].calls == 2


async def test_engines_share_one_loaded_model_and_keep_the_loop_free(small_model_path):
    a = build_engine("local:qwen2.5-0.5b")
    b = build_engine(f"local:{small_model_path}")
    assert b.cache_id == "local:qwen2.5-0.5b"  # the verified file maps to the registry name
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    before = ticks
    out = await asyncio.gather(a.complete([QUESTION]), b.complete([QUESTION]))
    task.cancel()
    assert a._shared is b._shared and a._shared.loaded
    assert out[0][0].text == out[1][0].text
    assert ticks > before + 1, "generation must run off the event loop"


async def test_stop_and_length_finish(small_model_path):
    engine = LocalEngine("qwen2.5-0.5b")
    request = ChatRequest.chat("You are helpful.", "Count from 1 to 20, separated by spaces.", max_tokens=3)
    [c] = await engine.complete([request])
    assert c.finish_reason == "length" and c.completion_tokens == 3


async def test_prompt_longer_than_context_is_a_clear_error(small_model_path):
    engine = LocalEngine("qwen2.5-0.5b", n_ctx=256, n_threads=2)
    long = ChatRequest.chat("You are helpful.", "word " * 400, max_tokens=4)
    with pytest.raises(EngineError, match=r"^local:qwen2.5-0.5b: .*context"):
        await engine.complete([long])


async def test_missing_file(tmp_path):
    engine = LocalEngine(tmp_path / "absent.gguf")
    assert engine.cache_id == "local:absent.gguf#0"
    assert local_cache_id("qwen2.5-1.5b") == "local:qwen2.5-1.5b"
    with pytest.raises(ModelInstallError, match="model file not found"):
        await engine.complete([QUESTION])


async def test_sampling_is_reproducible_for_a_seed(small_model_path):
    engine = LocalEngine("qwen2.5-0.5b")
    request = ChatRequest.chat(
        "You are a poet.", "One line about rain.", temperature=0.9, max_tokens=12, seed=3
    )
    [a] = await engine.complete([request])
    [b] = await engine.complete([request])
    assert a.text == b.text and a.text.strip()
