"""Validation bookkeeping: the score curve and the best-validation prompt.

The starting prompt is a candidate for "best" (validated at step 0). Ties keep the earliest
prompt, and a run whose every validation scored 0 keeps the starting prompt (the reference picked
the empty string then: paper.md B16).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class PromptRecord:
    step: int
    prompt: str
    val: float


@dataclass
class Bookkeeping:
    start: PromptRecord | None = None
    best: PromptRecord | None = None
    last: PromptRecord | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # one {step, val, accepted} per validation

    def record_validation(self, step: int, prompt: str, val: float) -> bool:
        """Record a validation; returns True when this prompt is the new best (strictly better)."""
        rec = PromptRecord(step, prompt, val)
        if self.start is None:
            self.start = rec
        self.last = rec
        self.history.append({"step": step, "val": val})
        if self.best is None or val > self.best.val:
            self.best = rec
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        return {
            "start": asdict(self.start) if self.start else None,
            "best": asdict(self.best) if self.best else None,
            "last": asdict(self.last) if self.last else None,
            "history": list(self.history),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        def rec(d: dict[str, Any] | None) -> PromptRecord | None:
            return PromptRecord(**d) if d else None

        self.start, self.best, self.last = rec(state["start"]), rec(state["best"]), rec(state["last"])
        self.history = list(state["history"])
