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


async def test_ucb_pulls_every_arm_even_when_rounds_are_too_few():
    # 5 arms, 3 per round, 1 round: arms 3 and 4 would never be pulled and so never kept (mean 0)
    means = [0.1, 0.2, 0.3, 0.4, 0.9]
    log = []

    async def pull(arms, n):
        log.append((list(arms), n))
        return [[means[a]] * n for a in arms]

    sel = await select_ucb(5, 2, pull, rounds=1, arms_per_round=3, samples_per_pull=2, c=1.0)
    assert all(s.n > 0 for s in sel.stats)
    assert sel.kept == [4, 3]
    assert log[0] == ([0, 1, 2], 2) and set(log[1][0]) >= {3, 4} and len(log) == 2
    assert sel.evaluations == 2 * 3 * 2


async def test_ucb_log_term_counts_rounds_not_samples():
    # Deterministic arm values; round 1 pulls arms 0, 1 (unpulled), round 2 pulls arm 2 (unpulled)
    # and arm 0 (higher mean). Round 3, with n = [4, 2, 2] samples and c = 4: with t = 3 (rounds)
    # arm 2 has the lowest bound (0 + 4 sqrt(ln 3 / 2) = 2.96 < 1 + 4 sqrt(ln 3 / 4) = 3.10), so
    # arms 0 and 1 are pulled; with t = 9 (samples + 1) arm 0 would be the one left out.
    means = [1.0, 0.5, 0.0]
    log = []

    async def pull(arms, n):
        log.append(list(arms))
        return [[means[a]] * n for a in arms]

    sel = await select_ucb(3, 1, pull, rounds=3, arms_per_round=2, samples_per_pull=2, c=4.0)
    assert log == [[0, 1], [0, 2], [0, 1]]
    assert [t["t"] for t in sel.trace] == [1, 2, 3]
