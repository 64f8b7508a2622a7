"""Acceptance rules: AlwaysAccept (TextGrad), Greedy, and SimulatedAnnealing (TSA).

Scores are acceptance-set scores in [0, 1]; delta = candidate - current, where current is the
*current prompt's real score* (the reference starts its baseline at 0 - bug B7).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from dlpo.optim.base import Decision
from dlpo.optim.schedules import Geometric

EPS = 1e-12


def _delta(current: float | None, candidate: float | None) -> float | None:
    return None if current is None or candidate is None else candidate - current


@dataclass
class AlwaysAccept:
    name: str = "always"
    needs_scores: bool = False

    def decide(self, current: float | None, candidate: float | None, rng: random.Random) -> Decision:
        return Decision(True, "always accept", delta=_delta(current, candidate))

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None


def _require(current: float | None, candidate: float | None, rule: str) -> float:
    delta = _delta(current, candidate)
    if delta is None:
        raise ValueError(
            f"acceptance rule {rule!r} needs both scores (current={current}, candidate={candidate})"
        )
    return delta


@dataclass
class Greedy:
    """Accept iff the candidate is not worse on the acceptance set."""

    name: str = "greedy"
    needs_scores: bool = True

    def decide(self, current: float | None, candidate: float | None, rng: random.Random) -> Decision:
        delta = _require(current, candidate, self.name)
        if delta >= -EPS:
            return Decision(True, "not worse", delta=delta)
        return Decision(False, "worse", delta=delta)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None


@dataclass
class SimulatedAnnealing:
    """TSA: accept if not worse; reject if worse by more than `hard_margin`; else accept with
    probability exp(delta / T), drawing u from the optimizer's RNG (accept iff u <= p).
    T = t0 / decay ** k, k = steps accepted by this rule so far."""

    t0: float = 64.0
    decay: float = 2.0
    hard_margin: float = 0.3
    accepted: int = 0
    name: str = "annealing"
    needs_scores: bool = True

    @property
    def temperature(self) -> float:
        return Geometric(self.t0, self.decay)(self.accepted)

    def decide(self, current: float | None, candidate: float | None, rng: random.Random) -> Decision:
        delta = _require(current, candidate, self.name)
        T = self.temperature
        if delta >= -EPS:
            decision = Decision(True, "not worse", delta=delta, temperature=T, probability=1.0)
        elif -delta > self.hard_margin + EPS:
            decision = Decision(
                False,
                f"worse by more than the hard margin {self.hard_margin}",
                delta=delta,
                temperature=T,
                probability=0.0,
            )
        else:
            p = math.exp(delta / T) if T > 0 else 0.0
            u = rng.random()
            accept = u <= p
            reason = "worse, accepted by annealing" if accept else "worse, rejected by annealing"
            decision = Decision(accept, reason, delta=delta, temperature=T, probability=p, draw=u)
        if decision.accept:
            self.accepted += 1
        return decision

    def state_dict(self) -> dict[str, Any]:
        return {
            "t0": self.t0,
            "decay": self.decay,
            "hard_margin": self.hard_margin,
            "accepted": self.accepted,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t0 = float(state.get("t0", self.t0))
        self.decay = float(state.get("decay", self.decay))
        self.hard_margin = float(state.get("hard_margin", self.hard_margin))
        self.accepted = int(state.get("accepted", 0))
