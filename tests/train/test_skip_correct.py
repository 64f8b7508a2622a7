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


def test_presets_choose_whether_to_skip():
    assert resolve_recipe("dlpo").skip_correct_batches
    assert not resolve_recipe("tgd").skip_correct_batches  # TextGrad steps on every batch
    assert "skip_correct_batches" not in resolve_recipe("tgd").model_dump()  # old configs unchanged
