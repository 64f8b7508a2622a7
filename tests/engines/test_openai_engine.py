"""OpenAIEngine against a scripted local HTTP server: retries, timeouts, non-retried 4xx, messages."""

from __future__ import annotations

import random

import pytest

from dlpo.engines.base import ChatRequest
from dlpo.engines.openai_engine import OpenAIEngine, is_local_url
from dlpo.engines.retry import Backoff
from dlpo.errors import EngineError


class Sleeps:
    """Records the requested delays instead of waiting (no timed tests)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make(server, model: str, sleeps: Sleeps | None = None, **kw) -> OpenAIEngine:
    kw.setdefault("max_retries", 2)
    kw.setdefault("timeout", 5.0)
    return OpenAIEngine(
        model,
        base_url=server.base_url,
        backoff=Backoff(base=0.01, cap=0.05, rng=random.Random(0)),
        sleep=sleeps or Sleeps(),
        **kw,
    )


REQ = ChatRequest.chat("sys", "hello", max_tokens=8)


async def test_success_returns_text_usage_and_timings(fake_openai):
    engine = make(fake_openai, fake_openai.plan("m-ok"))
    [c] = await engine.complete([REQ])
    await engine.aclose()
    assert c.text == "echo: hello"
    assert (c.prompt_tokens, c.completion_tokens) == (11, 3)
    assert c.finish_reason == "stop"
    assert c.extra["timings"]["predicted_ms"] == 2.5
    assert c.model == engine.cache_id == f"openai:m-ok@{fake_openai.base_url}"
    assert c.latency_s > 0
    assert fake_openai.hits["m-ok"] == 1


async def test_429_is_retried_honouring_retry_after_seconds(fake_openai):
    sleeps = Sleeps()
    engine = make(fake_openai, fake_openai.plan("m-429", "429", "429"), sleeps)
    [c] = await engine.complete([REQ])
    assert c.text == "echo: hello"
    assert fake_openai.hits["m-429"] == 3
    assert sleeps.delays == [1.0, 1.0]


async def test_429_retry_after_http_date(fake_openai):
    sleeps = Sleeps()
    engine = make(fake_openai, fake_openai.plan("m-429d", "429date"), sleeps)
    await engine.complete([REQ])
    assert fake_openai.hits["m-429d"] == 2
    assert len(sleeps.delays) == 1 and 1.0 <= sleeps.delays[0] <= 3.0


async def test_5xx_retried_with_jittered_backoff_then_gives_up(fake_openai):
    sleeps = Sleeps()
    engine = make(fake_openai, fake_openai.plan("m-500", "500", "503", "500", "500"), sleeps)
    with pytest.raises(EngineError) as err:
        await engine.complete([REQ])
    assert fake_openai.hits["m-500"] == 3
    assert "gave up after 3 attempts" in str(err.value)
    assert "500 Internal Server Error" in str(err.value)
    assert len(sleeps.delays) == 2
    assert 0 <= sleeps.delays[0] <= 0.01 and 0 <= sleeps.delays[1] <= 0.02


async def test_5xx_then_success(fake_openai):
    engine = make(fake_openai, fake_openai.plan("m-503ok", "503"))
    [c] = await engine.complete([REQ])
    assert c.text == "echo: hello" and fake_openai.hits["m-503ok"] == 2


async def test_timeout_is_retried_and_reported(fake_openai):
    fake_openai.slow_s = 1.5
    engine = make(fake_openai, fake_openai.plan("m-slow", "slow", "slow"), timeout=0.3, max_retries=1)
    with pytest.raises(EngineError) as err:
        await engine.complete([REQ])
    assert fake_openai.hits["m-slow"] == 2
    assert "gave up after 2 attempts" in str(err.value) and "timed out after 0.3 s" in str(err.value)


async def test_dropped_connection_is_retried(fake_openai):
    engine = make(fake_openai, fake_openai.plan("m-drop", "drop", "drop"))
    [c] = await engine.complete([REQ])
    assert c.text == "echo: hello" and fake_openai.hits["m-drop"] == 3


async def test_dropped_connection_error_line(fake_openai):
    engine = make(fake_openai, fake_openai.plan("m-drop2", "drop", "drop"), max_retries=1)
    with pytest.raises(EngineError, match="gave up after 2 attempts; last error: connection error"):
        await engine.complete([REQ])


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("401", "401 Unauthorized — check OPENAI_API_KEY"),
        ("403", "403 Forbidden — permission denied"),
        ("404", "404 Not Found — unknown model"),
        ("422", "422 Unprocessable"),
        ("ctx400", "400 Bad Request — the request is longer than the model's context window"),
    ],
)
async def test_client_errors_fail_at_once(fake_openai, action, expected):
    model = fake_openai.plan(f"m-{action}", action, action, action)
    engine = make(fake_openai, model)
    with pytest.raises(EngineError) as err:
        await engine.complete([REQ])
    message = str(err.value)
    assert fake_openai.hits[model] == 1, "a 4xx other than 408/429 must not be retried"
    assert message.startswith(f"openai:{model}@{fake_openai.base_url}: ")
    assert expected in message
    assert "\n" not in message


async def test_key_never_appears(fake_openai, monkeypatch):
    secret = "sk-test-SECRET-1234567890"
    monkeypatch.setenv("DLPO_TEST_KEY", secret)
    engine = make(fake_openai, fake_openai.plan("m-leak", "leak401"), api_key_env="DLPO_TEST_KEY")
    with pytest.raises(EngineError) as err:
        await engine.complete([REQ])
    assert "DLPO_TEST_KEY" in str(err.value)
    assert secret not in str(err.value) and secret not in repr(engine)


async def test_missing_key_for_remote_url(monkeypatch):
    monkeypatch.delenv("DLPO_ABSENT_KEY", raising=False)
    engine = OpenAIEngine("gpt-x", base_url="https://api.example.com/v1", api_key_env="DLPO_ABSENT_KEY")
    with pytest.raises(EngineError, match="set the environment variable DLPO_ABSENT_KEY"):
        await engine.complete([REQ])


def test_local_url_detection():
    assert is_local_url("http://127.0.0.1:8080/v1") and is_local_url("http://localhost/v1")
    assert not is_local_url("https://api.openai.com/v1") and not is_local_url(None)


async def test_concurrency_limit(fake_openai):
    fake_openai.reply_delay_s = 0.2
    try:
        engine = make(fake_openai, fake_openai.plan("m-conc"), concurrency=2)
        requests = [ChatRequest.chat("sys", f"q{i}") for i in range(6)]
        out = await engine.complete(requests)
    finally:
        fake_openai.reply_delay_s = 0.0
    assert [c.text for c in out] == [f"echo: q{i}" for i in range(6)]
    assert fake_openai.max_in_flight["m-conc"] == 2


def test_backoff_full_jitter_bounds():
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(1))
    for attempt in range(1, 8):
        bound = min(4.0, 0.5 * 2 ** (attempt - 1))
        delays = [backoff.delay(attempt) for _ in range(50)]
        assert all(0.0 <= d <= bound for d in delays)
        assert max(delays) > bound / 2  # spread over the interval, not a constant


def test_run_sync_twice_reuses_engine_across_loops(fake_openai):
    """The SDK client and semaphore are per event loop: a second asyncio.run must still work."""
    from dlpo.engines.base import run_sync

    engine = make(fake_openai, fake_openai.plan("m-loops"))
    assert run_sync(engine.complete([REQ]))[0].text == "echo: hello"
    assert run_sync(engine.complete([REQ]))[0].text == "echo: hello"


async def test_request_body_sampling_parameters(fake_openai):
    engine = make(fake_openai, fake_openai.plan("m-body"))
    requests = [
        ChatRequest.chat("sys", "a", temperature=0.7, max_tokens=5, stop=("\n",), seed=5, sample_index=2),
        ChatRequest.chat("sys", "b", seed=None),
    ]
    await engine.complete(requests)
    first, second = sorted(fake_openai.bodies["m-body"], key=lambda b: b["messages"][-1]["content"])
    assert first["messages"] == [{"role": "system", "content": "sys"}, {"role": "user", "content": "a"}]
    assert (first["temperature"], first["max_tokens"], first["stop"], first["seed"]) == (0.7, 5, ["\n"], 7)
    assert "seed" not in second and "stop" not in second and "sample_index" not in first
