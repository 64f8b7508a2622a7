"""How many optimizer steps the run will take: the configured plan, cut to what the budget buys.

The schedules that depend on the run's length (TSA's run-scaled temperature, TRegu's warm-up) are
built from the planned steps. A run with a budget usually ends before its configured `steps` (in
the tickets comparison the token budget ended every method after 6-9 of 40 planned steps, so
TRegu's warm-up of ceil(40 / 4) = 10 prompts was never reached and TSA stayed hot to the end).
After each step the planner measures the mean cost of the steps so far (validation included) and
plans `done + floor(remaining / mean)` steps, never more than configured and never fewer than
`done + 1`; when that differs from the current plan the optimizer's schedules are re-planned
(`optim.base.Replannable`). The plan is part of the checkpoint, so a resume continues it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dlpo.usage import Ledger

UNITS = ("calls", "tokens", "usd")


def spent(ledger: Ledger) -> dict[str, float]:
    """What the budget counts so far, per unit (calls and tokens as the run would spend them alone)."""
    total = ledger.total()
    return {"calls": float(total.calls_alone), "tokens": float(total.tokens_alone), "usd": total.usd_alone}


def limits(ledger: Ledger) -> dict[str, float]:
    b = ledger.budget
    given = {"calls": b.max_calls, "tokens": b.max_tokens, "usd": b.max_usd}
    return {unit: float(v) for unit, v in given.items() if v is not None}


@dataclass
class StepPlan:
    """The run's planned optimizer steps. `configured`: from `steps`/`max_epochs`; `planned`: the
    current plan; `at_start`: what the budget had counted when step 1 began (None: not started)."""

    configured: int
    planned: int = 0
    at_start: dict[str, float] | None = None

    def __post_init__(self) -> None:
        self.planned = self.planned or self.configured

    def begin(self, ledger: Ledger) -> None:
        """Mark the start of the steps (after the starting prompt's validation)."""
        self.at_start = spent(ledger)

    def update(self, ledger: Ledger, done: int) -> dict[str, Any] | None:
        """Re-plan after `done` steps; returns the change (for the event log) or None."""
        if self.at_start is None or done < 1:
            return None
        now, caps = spent(ledger), limits(ledger)
        affordable: dict[str, int] = {}
        per_step: dict[str, float] = {}
        for unit, cap in caps.items():
            mean = (now[unit] - self.at_start[unit]) / done
            if mean <= 0:
                continue
            per_step[unit] = mean
            affordable[unit] = done + math.floor(max(0.0, cap - now[unit]) / mean)
        if not affordable:
            return None
        unit = min(affordable, key=affordable.__getitem__)
        planned = max(done + 1, min(self.configured, affordable[unit]))
        if planned == self.planned:
            return None
        change = {
            "after_step": done,
            "planned_steps": planned,
            "previous": self.planned,
            "configured": self.configured,
            "unit": unit,
            "per_step": round(per_step[unit], 6),
            "remaining": round(max(0.0, caps[unit] - now[unit]), 6),
        }
        self.planned = planned
        return change

    def state_dict(self) -> dict[str, Any]:
        return {
            "configured": self.configured,
            "planned": self.planned,
            "at_start": self.at_start,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.planned = int(state.get("planned", self.configured))
        self.at_start = state.get("at_start")
