"""Best-arm selection for APO's beam: UCB and successive rejects over a budget of evaluations.

An *arm* is a candidate prompt; a *pull* scores it on a few training examples sampled with the
seeded RNG. Both selectors only decide which arms to pull and which to keep; the caller supplies
`pull(arm_indices, n_samples) -> list[list[float]]` (per-example scores), so the arithmetic is
testable without a model.

- UCB (ProTeGi's default "UCB bandits": the paper's UCB selection and the released `UCBBandits`):
  `rounds` rounds; in round t = 1, 2, ... the `arms_per_round` arms with the highest upper confidence
  bound `mean + c * sqrt(log(t) / n)` are scored on `samples_per_pull` examples, where `t` is the
  round (the time step, as in the paper; not a count of samples) and `n` the arm's samples so far.
  An unpulled arm's bound is +inf, so every arm is pulled once first, in index order (the incumbent
  beam first); when `rounds` are too few for that, UCB plays as many more rounds as that first
  sweep needs (`ucb_rounds`): an arm never pulled would have mean 0 and could never be kept. The
  `keep` arms with the highest mean survive.
- Successive rejects (Audibert & Bubeck, 2010): the budget `n` (example evaluations) is split into
  K-1 phases; in phase k every surviving arm is scored up to n_k total samples, with
  n_k = ceil((n - K) / (logbar(K) * (K + 1 - k))), logbar(K) = 1/2 + sum_{i=2..K} 1/i, and the
  worst arm is dropped; it stops when `keep` arms remain.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

PullFn = Callable[[Sequence[int], int], Awaitable[list[list[float]]]]


@dataclass
class ArmStats:
    n: int = 0
    total: float = 0.0

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    def add(self, scores: Sequence[float]) -> None:
        self.n += len(scores)
        self.total += float(sum(scores))


@dataclass
class Selection:
    """The kept arm indices (best first), every arm's stats, and how many example evaluations ran."""

    kept: list[int]
    stats: list[ArmStats]
    evaluations: int
    trace: list[dict] = field(default_factory=list)


def ucb_score(stats: ArmStats, t: int, c: float) -> float:
    """Upper confidence bound of an arm in round `t` (1, 2, ...); inf when unpulled."""
    if stats.n == 0:
        return math.inf
    return stats.mean + c * math.sqrt(math.log(max(t, 1)) / stats.n)


def rank(stats: Sequence[ArmStats], among: Sequence[int]) -> list[int]:
    """Arms by mean, best first; ties keep the lower index (the incumbent beam comes first)."""
    return sorted(among, key=lambda i: (-stats[i].mean, i))


async def select_ucb(
    n_arms: int,
    keep: int,
    pull: PullFn,
    *,
    rounds: int = 8,
    arms_per_round: int = 8,
    samples_per_pull: int = 32,
    c: float = 1.0,
) -> Selection:
    stats = [ArmStats() for _ in range(n_arms)]
    if n_arms <= keep:
        return Selection(list(range(n_arms)), stats, 0)
    trace, evaluations = [], 0
    for r in range(ucb_rounds(n_arms, rounds, arms_per_round)):
        t = r + 1
        order = sorted(range(n_arms), key=lambda i: (-ucb_score(stats[i], t, c), i))
        chosen = sorted(order[: min(arms_per_round, n_arms)])
        scores = await pull(chosen, samples_per_pull)
        for arm, s in zip(chosen, scores, strict=True):
            stats[arm].add(s)
            evaluations += len(s)
        trace.append(
            {"round": r, "t": t, "pulled": chosen, "means": [round(stats[i].mean, 4) for i in chosen]}
        )
    return Selection(rank(stats, range(n_arms))[:keep], stats, evaluations, trace)


def ucb_rounds(n_arms: int, rounds: int, arms_per_round: int) -> int:
    """Rounds UCB plays: `rounds`, or as many as pulling every arm once takes when that is more."""
    return max(rounds, math.ceil(n_arms / max(1, min(arms_per_round, n_arms))))


def successive_rejects_schedule(n_arms: int, budget: int) -> list[int]:
    """n_k for phases k = 1..K-1: the cumulative number of samples each surviving arm has by the
    end of phase k (at least 1)."""
    if n_arms < 2:
        return []
    logbar = 0.5 + sum(1.0 / i for i in range(2, n_arms + 1))
    return [max(1, math.ceil((budget - n_arms) / (logbar * (n_arms + 1 - k)))) for k in range(1, n_arms)]


async def select_successive_rejects(n_arms: int, keep: int, pull: PullFn, *, budget: int = 256) -> Selection:
    stats = [ArmStats() for _ in range(n_arms)]
    if n_arms <= keep:
        return Selection(list(range(n_arms)), stats, 0)
    alive = list(range(n_arms))
    trace, evaluations = [], 0
    for phase, n_k in enumerate(successive_rejects_schedule(n_arms, budget), start=1):
        if len(alive) <= keep:
            break
        need = [(arm, n_k - stats[arm].n) for arm in alive if n_k > stats[arm].n]
        # Arms needing the same number of samples are pulled together (one batch per size).
        for size in sorted({k for _, k in need}):
            arms = [a for a, k in need if k == size]
            for arm, s in zip(arms, await pull(arms, size), strict=True):
                stats[arm].add(s)
                evaluations += len(s)
        worst = rank(stats, alive)[-1]
        alive.remove(worst)
        trace.append({"phase": phase, "n_k": n_k, "rejected": worst})
    return Selection(rank(stats, alive)[:keep], stats, evaluations, trace)
