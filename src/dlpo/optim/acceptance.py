"""Acceptance rules: AlwaysAccept (TextGrad), Greedy, and SimulatedAnnealing (TSA).

Scores are acceptance-set scores in [0, 1]; delta = candidate - current, where current is the
*current prompt's real score* (the reference starts its baseline at 0 - bug B7).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
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


# The run-scaled schedule ("auto"): a 0.1 drop in acceptance-set score is accepted with probability
# P_START at the first step and P_END at the last planned step, T decaying geometrically per step.
AUTO_DROP, P_START, P_END = 0.1, 0.8, 0.05
ACTIVITY_KEYS = ("not_worse", "hard_rejects", "metropolis_accepts", "metropolis_rejects")


def auto_schedule(planned_steps: int) -> tuple[float, float]:
    """(t0, per-step decay) of the run-scaled TSA schedule for a run of `planned_steps` steps.

    The reference's T0 = 64 with accuracies in [0, 1] accepts anything within the hard margin for
    its first ~6 accepted steps (paper.md §3.3): in a run of 8 steps the Metropolis rule would never
    reject. Scaled to the run, it explores early and is nearly greedy by the last step."""
    t0 = AUTO_DROP / math.log(1 / P_START)
    t_end = AUTO_DROP / math.log(1 / P_END)
    return t0, (t0 / t_end) ** (1 / max(1, planned_steps - 1))


@dataclass
class SimulatedAnnealing:
    """TSA: accept if not worse; reject if worse by more than `hard_margin`; else accept with
    probability exp(delta / T), drawing u from the optimizer's RNG (accept iff u <= p).
    T = t0 / decay ** k, k = steps accepted by this rule so far (`decay_on="accepted"`, the
    reference) or decisions made so far (`decay_on="step"`, the run-scaled schedule)."""

    t0: float = 64.0
    decay: float = 2.0
    hard_margin: float = 0.3
    accepted: int = 0
    decay_on: str = "accepted"
    decided: int = 0
    name: str = "annealing"
    technique: str = "tsa"
    needs_scores: bool = True
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTIVITY_KEYS, 0))

    @classmethod
    def scaled_to_run(cls, planned_steps: int, hard_margin: float = 0.3) -> SimulatedAnnealing:
        t0, decay = auto_schedule(planned_steps)
        return cls(t0=t0, decay=decay, hard_margin=hard_margin, decay_on="step")

    def replan(self, planned_steps: int) -> None:
        """The run-scaled schedule (`decay_on="step"`) follows a new plan: same T0, a decay that
        reaches the end temperature at the last planned step. The reference schedule is fixed."""
        if self.decay_on == "step":
            self.decay = auto_schedule(planned_steps)[1]

    @property
    def temperature(self) -> float:
        k = self.decided if self.decay_on == "step" else self.accepted
        return Geometric(self.t0, self.decay)(k)

    def decide(self, current: float | None, candidate: float | None, rng: random.Random) -> Decision:
        delta = _require(current, candidate, self.name)
        T = self.temperature
        if delta >= -EPS:
            decision = Decision(True, "not worse", delta=delta, temperature=T, probability=1.0)
            self.counters["not_worse"] += 1
        elif -delta > self.hard_margin + EPS:
            decision = Decision(
                False,
                f"worse by more than the hard margin {self.hard_margin}",
                delta=delta,
                temperature=T,
                probability=0.0,
            )
            self.counters["hard_rejects"] += 1
        else:
            p = math.exp(delta / T) if T > 0 else 0.0
            u = rng.random()
            accept = u <= p
            reason = "worse, accepted by annealing" if accept else "worse, rejected by annealing"
            decision = Decision(accept, reason, delta=delta, temperature=T, probability=p, draw=u)
            self.counters["metropolis_accepts" if accept else "metropolis_rejects"] += 1
        if decision.accept:
            self.accepted += 1
        self.decided += 1
        return decision

    def activity(self) -> dict[str, int]:
        """Decisions by kind: `not_worse` accepts (what any rule would do) and the ones only TSA
        makes: hard rejects, and Metropolis accepts and rejects of a worse candidate."""
        return dict(self.counters)

    def state_dict(self) -> dict[str, Any]:
        return {
            "t0": self.t0,
            "decay": self.decay,
            "hard_margin": self.hard_margin,
            "accepted": self.accepted,
            "decay_on": self.decay_on,
            "decided": self.decided,
            "activity": dict(self.counters),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t0 = float(state.get("t0", self.t0))
        self.decay = float(state.get("decay", self.decay))
        self.hard_margin = float(state.get("hard_margin", self.hard_margin))
        self.accepted = int(state.get("accepted", 0))
        self.decay_on = str(state.get("decay_on", "accepted"))
        self.decided = int(state.get("decided", 0))
        saved = state.get("activity") or {}
        self.counters = {k: int(saved.get(k, 0)) for k in ACTIVITY_KEYS}
