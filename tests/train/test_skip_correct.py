"""An all-correct minibatch is skipped (no backward or optimizer call) when the recipe says so;
the step is still logged, validated and checkpointed, and reports show it as "skipped"."""

from __future__ import annotations

import re

from dlpo.engines.base import ChatRequest
from dlpo.engines.scripted import ScriptedEngine
from dlpo.optim.presets import resolve_recipe
from dlpo.report.load import load_run
from dlpo.runs.events import read_events
from dlpo.train import SKIPPED_REASON, afit
from dlpo.training.progress import ProgressDisplay

from .scripted_setup import backward_reply, make_config, make_task


def always_right(request: ChatRequest) -> str:
    a, b = (int(x) for x in re.findall(r"what is (\d+) \+ (\d+)", request.messages[-1].content)[0])
    return f"Answer: {a + b}"


def right_unless_even(request: ChatRequest) -> str:
    a, b = (int(x) for x in re.findall(r"what is (\d+) \+ (\d+)", request.messages[-1].content)[0])
    return f"Answer: {a + b + (1 if a % 2 == 0 else 0)}"


async def _run(tmp_path, forward_fn, skip: bool, name: str = "run"):
    recipe = resolve_recipe("tgd", skip_correct_batches=skip)
    fwd = ScriptedEngine(forward_fn, name="fwd")
    bwd = ScriptedEngine(backward_reply, name="bwd")
    cfg = make_config("tgd", recipe=recipe, steps=3)
    result = await afit(
        cfg, run_dir=tmp_path / name, task=make_task(), forward_engine=fwd, backward_engine=bwd
    )
    return result, bwd, read_events(tmp_path / name / "events.jsonl")


async def test_all_correct_batches_make_no_backward_call(tmp_path):
    result, bwd, events = await _run(tmp_path, always_right, skip=True)
    assert bwd.requests == []
    decisions = [e for e in events if e["type"] == "decision"]
    assert len(decisions) == 3 and all(d["skipped"] and d["reason"] == SKIPPED_REASON for d in decisions)
    steps = [e for e in events if e["type"] == "step"]
    assert [s["step"] for s in steps] == [1, 2, 3] and all(s["skipped"] for s in steps)
    assert {e["type"] for e in events} & {"gradient", "update_request", "candidate"} == set()
    assert result.last.prompt == make_task().initial_prompt
    row = load_run(tmp_path / "run").steps[0]
    assert row.status == "skipped" and row.batch_score == 1.0


async def test_without_the_option_the_optimizer_is_still_asked(tmp_path):
    _, bwd, events = await _run(tmp_path, always_right, skip=False)
    assert bwd.requests, "an all-correct batch still reaches the optimizer when skipping is off"
    assert not any(e.get("skipped") for e in events if e["type"] == "decision")


async def test_a_batch_with_one_wrong_answer_is_not_skipped(tmp_path):
    _, bwd, events = await _run(tmp_path, right_unless_even, skip=True)
    batches = [e for e in events if e["type"] == "forward_batch"]
    decisions = [e for e in events if e["type"] == "decision"]
    for batch, decision in zip(batches, decisions, strict=True):
        assert decision.get("skipped", False) == (min(batch["scores"]) == 1.0)
    assert any(not d.get("skipped") for d in decisions) and bwd.requests


def test_progress_counts_skipped_steps():
    display = ProgressDisplay(total_steps=2)
    display.on_event({"type": "decision", "accepted": False, "failed": False, "skipped": True})
    assert display.state["skipped"] == 1 and display.state["rejected"] == 0
    assert "skipped 1" in display.status.plain


def test_skipping_is_a_run_option_with_one_default_for_every_method():
    from dlpo.train import TrainConfig

    for preset in ("tgd", "dlpo", "textgrad", "tlr", "apo"):
        assert TrainConfig(recipe=resolve_recipe(preset)).skip_correct_batches
        assert not TrainConfig(recipe=resolve_recipe(preset), skip_correct_batches=False).skip_correct_batches
        assert "skip_correct_batches" not in resolve_recipe(preset).model_dump()  # no preset sets it
    # the deprecated recipe field still counts when the run option is not given ...
    assert not TrainConfig(recipe=resolve_recipe("tgd", skip_correct_batches=False)).skip_correct_batches
    # ... and the run option wins when both are given
    both = TrainConfig(recipe=resolve_recipe("tgd", skip_correct_batches=False), skip_correct_batches=True)
    assert both.skip_correct_batches and both.to_json()["skip_correct_batches"] is True


def test_an_old_config_json_runs_as_it_did():
    """Written before the run option: tgd did not skip, dlpo's recipe said to."""
    from dlpo.train import TrainConfig

    old_tgd = TrainConfig(recipe=resolve_recipe("tgd")).to_json()
    del old_tgd["skip_correct_batches"], old_tgd["feedback"], old_tgd["warm_start"], old_tgd["update_format"]
    assert not TrainConfig.from_json(old_tgd).skip_correct_batches
    old_dlpo = {**old_tgd, "recipe": {**resolve_recipe("dlpo").model_dump(), "skip_correct_batches": True}}
    loaded = TrainConfig.from_json(old_dlpo)
    assert loaded.skip_correct_batches and loaded.feedback == "facts" and loaded.warm_start == "none"
