"""Integration: the real local 0.5B model answers 5 demo questions; the scorer's verdicts and
reasons are recorded (shown with `pytest -s`, and as junit properties)."""

from __future__ import annotations

import pytest

from dlpo.engines.client import LLMClient
from dlpo.evaluation import evaluate
from dlpo.tasks.registry import load_task

pytestmark = pytest.mark.model


@pytest.fixture
def engine(small_model_path):
    from dlpo.engines.spec import build_engine

    return build_engine("local:qwen2.5-0.5b")


async def test_small_model_on_five_demo_questions(engine, record_property) -> None:
    strict = load_task("demo")
    lenient = load_task("demo", scorer="reference")
    client = LLMClient(engine)
    try:
        result = await evaluate(client, strict, strict.initial_prompt, strict.test[:5], max_tokens=200)
    finally:
        await client.aclose()
    assert result.n == 5
    rows = []
    for r in result.results:
        assert r.output.strip(), f"empty reply for {r.example.id}"
        assert r.score == strict.score(r.output, r.example)  # the recorded verdict is the scorer's
        assert r.score.reason and (
            r.score.correct or r.example.target in r.score.reason or "Answer:" in r.score.reason
        )
        ref = lenient.score(r.output, r.example)
        rows.append((r.example.id, r.example.target, r.score.value, r.score.reason, ref.value, ref.reason))
        record_property(
            r.example.id,
            f"strict {r.score.value:.0f} ({r.score.reason}); reference {ref.value:.0f} ({ref.reason})",
        )
    for row in rows:
        print("demo result:", row)
    assert client.ledger.roles["forward"].calls == 5
