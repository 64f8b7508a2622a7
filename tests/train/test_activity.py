"""Techniques provably act: every run records, per technique, what it did, and a resume keeps the
counts; TSA's run-scaled temperature makes the Metropolis rule decide inside a short run."""

from __future__ import annotations

import json
import random

from dlpo.optim.acceptance import SimulatedAnnealing, auto_schedule
from dlpo.optim.base import acted
from dlpo.train import afit

from .scripted_setup import engines, make_config, make_task


async def test_result_records_every_techniques_activity(tmp_path):
    fwd, bwd = engines()
    config = make_config("dlpo", steps=4)
    result = await afit(
        config, run_dir=tmp_path / "run", task=make_task(), forward_engine=fwd, backward_engine=bwd
    )
    saved = json.loads((tmp_path / "run" / "result.json").read_text())["activity"]
    assert saved == result.activity
    assert {"tlr", "tsa", "tcl", "tregu", "tlrd"} <= set(saved), saved
    assert saved["tlr"]["measured"] >= 1
    assert sum(saved["tsa"].values()) >= 1
    assert saved["tcl"]["best_shown"] >= 1
    assert saved["tregu"]["requests"] >= 1, "TRegu's warm-up scales to a 4-step run"


async def test_activity_survives_a_resume(tmp_path):
    task = make_task()
    fwd, bwd = engines()
    full = await afit(
        make_config("dlpo", steps=3),
        run_dir=tmp_path / "a",
        task=task,
        forward_engine=fwd,
        backward_engine=bwd,
    )
    fwd, bwd = engines()
    await afit(
        make_config("dlpo", steps=3), run_dir=tmp_path / "b", task=task, forward_engine=fwd, backward_engine=bwd,
        stop_after=1,
    )  # fmt: skip
    fwd, bwd = engines()
    resumed = await afit(resume=tmp_path / "b", task=task, forward_engine=fwd, backward_engine=bwd)
    assert resumed.activity == full.activity


def test_run_scaled_annealing_explores_early_and_is_greedy_late():
    t0, decay = auto_schedule(8)
    rule = SimulatedAnnealing.scaled_to_run(8)
    assert (rule.t0, rule.decay) == (t0, decay)
    rng = random.Random(0)
    first = rule.decide(0.5, 0.4, rng)  # a 0.1 drop at the first step: p = 0.8
    assert abs(first.probability - 0.8) < 1e-9
    for _ in range(6):
        rule.decide(0.5, 0.6, rng)
    last = rule.decide(0.5, 0.4, rng)  # the same drop at the 8th step: p = 0.05
    assert abs(last.probability - 0.05) < 1e-9
    counts = rule.activity()
    assert counts["not_worse"] == 6 and counts["metropolis_accepts"] + counts["metropolis_rejects"] == 2
    assert acted(counts)


def test_reference_temperature_accepts_anything_within_the_margin():
    decisions = [
        SimulatedAnnealing(t0=64, decay=2).decide(0.5, 0.2 + d, random.Random(0)) for d in (0, 0.1, 0.2)
    ]
    assert all(d.accept for d in decisions) and min(d.probability for d in decisions) > 0.99
    rule = SimulatedAnnealing(t0=64, decay=2)
    assert rule.decide(0.9, 0.5, random.Random(0)).reason.startswith("worse by more than the hard margin")
    assert not acted({"not_worse": 3}) and acted({"not_worse": 3, "hard_rejects": 1})
