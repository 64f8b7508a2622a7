"""A budget-matched run: when the budget runs out the optimization ends there and the prompts are
tested outside the budget (`budget.then = "test"`); `then = "stop"` stops without testing."""

from __future__ import annotations

import json

from dlpo.train import TrainConfig, afit

from .scripted_setup import engines, make_config, make_task


def config(then: str, preset: str = "dlpo") -> TrainConfig:
    base = make_config(preset, steps=50).model_dump()
    return TrainConfig.build(**{**base, "budget": {"max_calls": 40, "then": then}})


async def test_then_test_ends_at_the_budget_and_tests_the_prompts(tmp_path):
    fwd, bwd = engines()
    result = await afit(
        config("test"), run_dir=tmp_path / "r", task=make_task(), forward_engine=fwd, backward_engine=bwd
    )
    assert result.stopped == "budget" and 0 < result.steps < 50
    assert result.start.test is not None and result.best.test is not None and result.last.test is not None
    saved = json.loads((tmp_path / "r" / "result.json").read_text())
    usage = saved["usage"]["total"]
    test_calls = saved["usage"]["roles"]["test"]["calls"]
    assert usage["calls_alone"] - test_calls <= 40  # training stayed inside the budget
    events = [json.loads(line) for line in (tmp_path / "r" / "events.jsonl").read_text().splitlines()]
    kinds = [e["type"] for e in events]
    assert "stopped" in kinds and kinds.index("stopped") < kinds.index("test")


async def test_then_stop_keeps_the_old_behaviour(tmp_path):
    fwd, bwd = engines()
    result = await afit(
        config("stop"), run_dir=tmp_path / "r", task=make_task(), forward_engine=fwd, backward_engine=bwd
    )
    assert result.stopped == "budget" and result.best.test is None


async def test_apo_ends_at_the_budget_and_tests_too(tmp_path):
    fwd, bwd = engines()
    result = await afit(
        config("test", preset="apo"),
        run_dir=tmp_path / "r",
        task=make_task(),
        forward_engine=fwd,
        backward_engine=bwd,
    )
    assert result.stopped == "budget" and result.best.test is not None
