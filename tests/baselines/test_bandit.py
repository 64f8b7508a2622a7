"""Bandit arithmetic of APO's selection, with fixed per-arm scores and a seeded RNG."""

import math
import random

import pytest

from dlpo.baselines.bandit import (
    ArmStats,
    select_successive_rejects,
    select_ucb,
    successive_rejects_schedule,
    ucb_score,
)


def test_ucb_score_formula_and_unpulled_arm():
    s = ArmStats(n=4, total=3.0)
    assert ucb_score(s, t=10, c=2.0) == pytest.approx(0.75 + 2.0 * math.sqrt(math.log(10) / 4))
    assert ucb_score(ArmStats(), t=10, c=1.0) == math.inf


def test_successive_rejects_schedule_by_hand():
    # K=4, n=40: logbar = 1/2 + 1/2 + 1/3 + 1/4 = 19/12; n_k = ceil(36 / (19/12 * (5 - k)))
    assert successive_rejects_schedule(4, 40) == [6, 8, 12]
    assert successive_rejects_schedule(1, 40) == []


def _bernoulli_pull(probs, rng, log):
    async def pull(arms, n):
        log.append((list(arms), n))
        return [[1.0 if rng.random() < probs[a] else 0.0 for _ in range(n)] for a in arms]

    return pull


async def test_ucb_keeps_the_best_arms_and_counts_evaluations():
    probs = [0.1, 0.9, 0.5, 0.8, 0.2]
    log = []
    sel = await select_ucb(
        5,
        2,
        _bernoulli_pull(probs, random.Random(0), log),
        rounds=6,
        arms_per_round=3,
        samples_per_pull=20,
        c=0.5,
    )
    assert set(sel.kept) == {1, 3}
    assert sel.evaluations == 6 * 3 * 20 == sum(s.n for s in sel.stats)
    assert log[0] == ([0, 1, 2], 20)  # all unpulled: ties broken by index


async def test_successive_rejects_drops_worst_each_phase_and_respects_budget():
    means = [0.2, 0.95, 0.6, 0.05]
    log = []

    async def pull(arms, n):  # deterministic arm values: each sample scores the arm's mean
        log.append((list(arms), n))
        return [[means[a]] * n for a in arms]

    sel = await select_successive_rejects(4, 1, pull, budget=40)
    assert sel.kept == [1]
    assert [t["rejected"] for t in sel.trace] == [3, 0, 2]
    # every surviving arm has n_k samples at the end of phase k: schedule [6, 8, 12]
    assert [s.n for s in sel.stats] == [8, 12, 12, 6]
    assert sel.evaluations == 38  # <= the budget of 40
    assert log == [([0, 1, 2, 3], 6), ([0, 1, 2], 2), ([1, 2], 4)]


async def test_no_selection_needed_when_arms_fit_the_beam():
    async def pull(arms, n):
        raise AssertionError("must not pull")

    sel = await select_ucb(2, 4, pull)
    assert sel.kept == [0, 1] and sel.evaluations == 0
