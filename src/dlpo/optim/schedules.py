"""Schedules (step -> value) and the learning-rate scheduler (TLRD).

The reference TLRD is `LinearDecay(lr0, floor=1)`: lr_t = max(lr0 - t, 1), where t counts
*accepted* steps (the reference advances it only on accepted TSA steps). `LRScheduler` reads the
counter from the optimizer (`accepted_count` or `step_count`), so it holds no state of its own
that could drift from the optimizer's on resume. The temperature of TSA is a `Geometric` schedule
held by `SimulatedAnnealing`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, is_dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from dlpo.optim.optimizer import StepReport, TextualGradientDescent


@dataclass(frozen=True)
class Constant:
    value: float

    def __call__(self, t: int) -> float:
        return self.value


@dataclass(frozen=True)
class LinearDecay:
    """max(v0 - rate * t, floor) - the reference TLRD with rate 1, floor 1."""

    v0: float
    floor: float = 1.0
    rate: float = 1.0

    def __call__(self, t: int) -> float:
        return max(self.v0 - self.rate * t, self.floor)


@dataclass(frozen=True)
class StepDecay:
    """v0 * factor ** (t // every), not below floor."""

    v0: float
    factor: float = 0.5
    every: int = 2
    floor: float = 1.0

    def __call__(self, t: int) -> float:
        return max(self.v0 * self.factor ** (t // self.every), self.floor)


@dataclass(frozen=True)
class CosineDecay:
    """From v0 to floor along half a cosine over `total` steps, then floor."""

    v0: float
    total: int = 10
    floor: float = 1.0

    def __call__(self, t: int) -> float:
        frac = min(max(t, 0), self.total) / max(self.total, 1)
        return self.floor + (self.v0 - self.floor) * (1 + math.cos(math.pi * frac)) / 2


@dataclass(frozen=True)
class Geometric:
    """v0 / decay ** t - the reference TSA temperature (T0 = 64, decay 2)."""

    v0: float
    decay: float = 2.0

    def __call__(self, t: int) -> float:
        return self.v0 / self.decay**t


def schedule_to_dict(schedule: Any) -> dict[str, Any]:
    """A schedule's description for checkpoints (a user's function schedule: its name only)."""
    if is_dataclass(schedule) and not isinstance(schedule, type):
        return {"kind": type(schedule).__name__, **asdict(schedule)}
    return {"kind": getattr(schedule, "name", getattr(schedule, "__name__", type(schedule).__name__))}


class LRScheduler:
    """Sets `optimizer.lr = schedule(t)`; t = accepted steps (`on="accepted"`, reference TLRD) or all
    steps (`on="every"`). Sets the initial value at construction; call `step()` after each
    `optimizer.step()` (the report is accepted for symmetry with the loop but not needed)."""

    def __init__(
        self,
        optimizer: TextualGradientDescent,
        schedule: Any,
        *,
        on: Literal["accepted", "every"] = "accepted",
    ) -> None:
        if on not in ("accepted", "every"):
            raise ValueError(f"on must be 'accepted' or 'every', got {on!r}")
        self.optimizer = optimizer
        self.schedule = schedule
        self.on = on
        self.last_t = 0
        self.changes = 0  # steps after which the schedule moved the learning rate (TLRD acting)
        self.optimizer.lr = self.schedule(0)

    def _t(self) -> int:
        return self.optimizer.accepted_count if self.on == "accepted" else self.optimizer.step_count

    technique = "tlrd"

    def step(self, report: StepReport | None = None) -> float:
        before = self.optimizer.lr
        self.last_t = self._t()
        self.optimizer.lr = self.schedule(self.last_t)
        if self.optimizer.lr != before:
            self.changes += 1
        return self.optimizer.lr

    def activity(self) -> dict[str, int]:
        return {"lr_changes": self.changes}

    def state_dict(self) -> dict[str, Any]:
        return {
            "on": self.on,
            "last_t": self.last_t,
            "schedule": schedule_to_dict(self.schedule),
            "changes": self.changes,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last_t = int(state.get("last_t", 0))
        self.changes = int(state.get("changes", 0))
        self.optimizer.lr = self.schedule(self.last_t)
