"""TMnt - textual momentum: the last k gradients of accepted steps in the request.

As in the reference, the history holds the feedback of *accepted* steps, oldest first, and the
request asks for bolder changes when it keeps pointing at the same problems. Unlike the reference
(bug B3) the block only appears when this technique is on.

Each gradient is stored with the optimizer step it came from, so its label is the real distance
("[3 steps ago]") even when rejected or failed steps lie in between. A history loaded from an
older checkpoint has no step numbers; those entries are labelled by rank ("[2nd most recent]").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlpo.optim.base import CheckResult, RequestSection, StepOutcome, UpdateContext

INSTRUCTION = (
    "Momentum: feedback from earlier accepted steps, oldest first. Look for problems that keep coming back; "
    "if the same problems repeat, the earlier changes were too small, so change the prompt more boldly now."
)
# steps_shown: requests that carried past feedback; gradients_shown: gradients shown, summed;
# stored: gradients of accepted steps added to the history.
ACTIVITY_KEYS = ("steps_shown", "gradients_shown", "stored")


def _counts(saved: dict[str, Any] | None = None) -> dict[str, int]:
    saved = saved or {}
    return {k: int(saved.get(k, 0)) for k in ACTIVITY_KEYS}


def _ordinal(rank: int) -> str:
    if rank == 1:
        return "most recent"
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix} most recent"


def _label(step: int | None, now: int, rank: int) -> str:
    if step is None or step >= now:
        return _ordinal(rank)
    ago = now - step
    return f"{ago} step{'s' if ago != 1 else ''} ago"


@dataclass
class Momentum:
    k: int = 3
    history: list[str] = field(default_factory=list)
    # the optimizer step of each history entry (None: unknown, e.g. an older checkpoint)
    steps: list[int | None] = field(default_factory=list)
    name: str = "tmnt"
    section_order: int = 20  # where its request section goes (see optim.base.Technique)
    needs_scores: bool = False
    counters: dict[str, int] = field(default_factory=_counts, init=False, repr=False)

    def __post_init__(self) -> None:
        self.steps = self._aligned_steps(self.steps)

    def _aligned_steps(self, steps: list[int | None]) -> list[int | None]:
        """`steps` padded with None at the front (or cut) to one entry per history item."""
        known = list(steps)[-len(self.history) :] if self.history else []
        return [None] * (len(self.history) - len(known)) + known

    def sections(self, ctx: UpdateContext) -> list[RequestSection]:
        if not self.history:
            ctx.notes["tmnt_shown"] = 0
            return []
        past = list(zip(self.history, self.steps))[-self.k :]
        body = "\n".join(
            f"[{_label(step, ctx.step, len(past) - i)}] {g.strip()}" for i, (g, step) in enumerate(past)
        )
        ctx.notes["tmnt_shown"] = len(past)
        self.counters["steps_shown"] += 1
        self.counters["gradients_shown"] += len(past)
        return [RequestSection(tag="PAST_FEEDBACK", body=body, technique=self.name, instruction=INSTRUCTION)]

    def check(self, ctx: UpdateContext, candidate: str) -> CheckResult:
        return CheckResult(candidate, metrics={"momentum_shown": int(ctx.notes.get("tmnt_shown", 0))})

    def observe(self, outcome: StepOutcome) -> None:
        if outcome.accepted and outcome.gradient.text.strip():
            self.history.append(outcome.gradient.text)
            self.steps.append(outcome.step)
            del self.history[: -self.k]
            del self.steps[: -self.k]
            self.counters["stored"] += 1

    def activity(self) -> dict[str, int]:
        """Cumulative counts of what this technique did (see ACTIVITY_KEYS)."""
        return dict(self.counters)

    def state_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "history": list(self.history),
            "steps": list(self.steps),
            "activity": self.activity(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.k = int(state.get("k", self.k))
        self.history = list(state.get("history", []))
        self.steps = self._aligned_steps(state.get("steps", []))
        self.counters = _counts(state.get("activity"))
