"""Every transport fault of the proxy, against the fake OpenAI server (fast, no model): the
engine retries each one and then gets the real reply; faults the engine cannot fix are errors."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from dlpo.engines.base import ChatRequest
from dlpo.engines.openai_engine import OpenAIEngine
from dlpo.engines.retry import Backoff
from dlpo.errors import EngineError

from .proxy import FaultProxy, wait_until


def _fake_openai_class():
    path = Path(__file__).parents[1] / "engines" / "conftest.py"
    spec = importlib.util.spec_from_file_location("faults_fake_openai", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FakeOpenAI


@pytest.fixture(scope="module")
def fake_proxy():
    fake = _fake_openai_class()().start()
    proxy = FaultProxy(fake.server.server_address[1], stall_s=3.0).start()
    yield proxy
    proxy.stop()
    fake.stop()


def engine(proxy: FaultProxy, retries: int = 3) -> OpenAIEngine:
    return OpenAIEngine("m", base_url=proxy.base_url, timeout=1.0, max_retries=retries,
                        backoff=Backoff(base=0.01, cap=0.02, rng=random.Random(0)))  # fmt: skip


@pytest.mark.parametrize("fault", ["drop", "500", "429", "stall", "badjson", "nochoices"])
async def test_each_transport_fault_is_retried(fake_proxy, fault):
    fake_proxy.plan("any", fault)
    start = len(fake_proxy.log)
    eng = engine(fake_proxy)
    try:
        [done] = await eng.complete([ChatRequest.chat("be brief", f"hello {fault}", max_tokens=8)])
    finally:
        await eng.aclose()
    assert done.text == f"echo: hello {fault}"
    # a stalled request is logged when the proxy lets go of it, after the retry succeeded
    assert wait_until(lambda: len(fake_proxy.log) >= start + 2, timeout=10)
    assert sorted(r.action for r in fake_proxy.log[start:]) == sorted([fault, "ok"])


async def test_a_fault_that_persists_is_an_engine_error(fake_proxy):
    fake_proxy.plan("any", *["500"] * 3)
    eng = engine(fake_proxy, retries=2)
    try:
        with pytest.raises(EngineError, match="gave up after 3 attempts; last error: 500"):
            await eng.complete([ChatRequest.chat("be brief", "hello", max_tokens=8)])
    finally:
        await eng.aclose()


@pytest.mark.parametrize("fault,text", [("notags", "keep it"), ("garbage", "\x00"), ("empty", "")])
async def test_malformed_replies_arrive_as_text(fake_proxy, fault, text):
    """Malformed *content* is not a transport error: the optimizer must handle it (scenario c)."""
    fake_proxy.plan("update", fault)
    eng = engine(fake_proxy)
    try:
        [done] = await eng.complete(
            [ChatRequest.chat("x", "reply in <IMPROVED_VARIABLE> tags", max_tokens=8)]
        )
    finally:
        await eng.aclose()
    assert text in done.text and "IMPROVED_VARIABLE" not in done.text
