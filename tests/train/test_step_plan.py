"""Planned steps follow the budget (`dlpo.training.step_plan`): after each step the run measures
its mean cost per step and cuts the plan to what the budget buys; the schedules that scale with
the run (TSA's run-scaled temperature, TRegu's warm-up) follow, and a resume continues the plan."""

from __future__ import annotations

import json

from dlpo.engines.base import Completion
from dlpo.optim.acceptance import SimulatedAnnealing, auto_schedule
from dlpo.optim.techniques.regularization import Regularization
from dlpo.runs.events import read_events, strip_volatile
from dlpo.train import TrainConfig, afit
from dlpo.training.step_plan import StepPlan
from dlpo.usage import Budget, Ledger

from .scripted_setup import engines, make_config, make_task


def spend(ledger: Ledger, tokens: int, calls: int = 1) -> None:
    for _ in range(calls):
        ledger.record("forward", "local:x", Completion("", tokens // calls, 0, latency_s=0.0))


def test_plan_is_cut_to_what_the_token_budget_buys():
    ledger = Ledger(budget=Budget(max_tokens=1000))
    spend(ledger, 100)  # the starting prompt's validation: not a step
    plan = StepPlan(configured=40)
    plan.begin(ledger)
    spend(ledger, 200)  # two steps of 100 tokens
    change = plan.update(ledger, done=2)
    assert change is not None
    assert plan.planned == 2 + 700 // 100 == change["planned_steps"]
    assert change["unit"] == "tokens" and change["per_step"] == 100 and change["previous"] == 40
    assert plan.update(ledger, done=2) is None  # unchanged plan: no event


def test_plan_never_exceeds_the_configured_steps_nor_ends_before_the_next_step():
    ledger = Ledger(budget=Budget(max_tokens=10_000))
    plan = StepPlan(configured=5)
    plan.begin(ledger)
    spend(ledger, 10)
    assert plan.update(ledger, done=1) is None and plan.planned == 5
    spend(ledger, 9_990)  # the budget is spent: still plan the step the loop is about to try
    assert plan.update(ledger, done=2)["planned_steps"] == 3


def test_the_tightest_limit_sets_the_plan():
    ledger = Ledger(budget=Budget(max_tokens=100_000, max_calls=20))
    plan = StepPlan(configured=50)
    plan.begin(ledger)
    spend(ledger, 1_000, calls=4)  # 1 step: 4 calls, 1,000 tokens -> calls allow 5, tokens 100
    change = plan.update(ledger, done=1)
    assert change["unit"] == "calls" and plan.planned == 5


def test_without_a_budget_the_plan_stays_configured():
    ledger = Ledger()
    plan = StepPlan(configured=12)
    plan.begin(ledger)
    spend(ledger, 500)
    assert plan.update(ledger, done=1) is None and plan.planned == 12


def test_plan_state_round_trips():
    ledger = Ledger(budget=Budget(max_calls=10))
    plan = StepPlan(configured=30)
    plan.begin(ledger)
    spend(ledger, 10, calls=2)
    plan.update(ledger, done=1)
    again = StepPlan(configured=30)
    again.load_state_dict(json.loads(json.dumps(plan.state_dict())))
    assert again.state_dict() == plan.state_dict() and again.planned == 5


def test_run_scaled_annealing_and_regularization_follow_a_new_plan():
    sa = SimulatedAnnealing.scaled_to_run(40)
    sa.replan(8)
    assert sa.decay == auto_schedule(8)[1] and sa.t0 == auto_schedule(8)[0]
    reference = SimulatedAnnealing()  # the reference's fixed schedule does not scale with the run
    reference.replan(8)
    assert (reference.t0, reference.decay) == (64.0, 2.0)
    tregu = Regularization(warmup_prompts=16, planned_steps=40)
    assert tregu.warmup == 10
    tregu.replan(8)
    assert tregu.warmup == 2


def budgeted(steps: int = 40, max_calls: int = 60) -> TrainConfig:
    base = make_config("dlpo", steps=steps).model_dump()
    return TrainConfig.build(**{**base, "budget": {"max_calls": max_calls, "then": "test"}})


async def test_a_budgeted_run_replans_and_its_schedules_follow(tmp_path):
    fwd, bwd = engines()
    result = await afit(
        budgeted(), run_dir=tmp_path / "r", task=make_task(), forward_engine=fwd, backward_engine=bwd
    )
    assert result.stopped == "budget"
    events = read_events(tmp_path / "r" / "events.jsonl")
    plans = [e for e in events if e["type"] == "plan"]
    assert plans and plans[0]["previous"] == 40 and plans[-1]["planned_steps"] < 40
    # the budget ended the run near the last plan, not at the configured 40 steps
    assert abs(result.steps - plans[-1]["planned_steps"]) <= 2
    state = json.loads((tmp_path / "r" / "checkpoint.json").read_text())
    planned = state["plan"]["planned"]
    assert planned == plans[-1]["planned_steps"]
    techniques = state["optimizer"]["techniques"]
    assert techniques["tregu"]["planned_steps"] == planned
    assert state["optimizer"]["acceptance"]["state"]["decay"] == auto_schedule(planned)[1]


async def test_a_resumed_run_continues_the_plan(tmp_path):
    fwd, bwd = engines()
    full = await afit(
        budgeted(), run_dir=tmp_path / "full", task=make_task(), forward_engine=fwd, backward_engine=bwd
    )
    fwd, bwd = engines()
    await afit(
        budgeted(),
        run_dir=tmp_path / "r",
        task=make_task(),
        forward_engine=fwd,
        backward_engine=bwd,
        stop_after=3,
    )
    fwd, bwd = engines()
    resumed = await afit(resume=tmp_path / "r", task=make_task(), forward_engine=fwd, backward_engine=bwd)
    assert resumed.best.prompt == full.best.prompt and resumed.steps == full.steps
    mine = [e for e in strip_volatile(read_events(tmp_path / "r" / "events.jsonl")) if e["type"] == "plan"]
    theirs = [
        e for e in strip_volatile(read_events(tmp_path / "full" / "events.jsonl")) if e["type"] == "plan"
    ]
    assert mine == theirs and mine


async def test_the_report_says_how_the_budget_cut_the_plan(tmp_path):
    from dlpo.report.html import run_context
    from dlpo.report.load import load_run
    from dlpo.report.markdown import run_summary_md

    fwd, bwd = engines()
    await afit(budgeted(), run_dir=tmp_path / "r", task=make_task(), forward_engine=fwd, backward_engine=bwd)
    run = load_run(tmp_path / "r")
    line = run_context(run)["plan"]
    assert line is not None and line.startswith("planned steps 40 -> ") and "calls budget" in line
    assert line in run_summary_md(run)
