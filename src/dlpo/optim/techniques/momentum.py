"""TMnt - textual momentum: the last k gradients of accepted steps in the request.

As in the reference, the history holds the feedback of *accepted* steps, oldest first, and the
request asks for bolder changes when it keeps pointing at the same problems. Unlike the reference
(bug B3) the block only appears when this technique is on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlpo.optim.base import CheckResult, RequestSection, StepOutcome, UpdateContext

INSTRUCTION = (
    "Momentum: feedback from earlier accepted steps, oldest first. Look for problems that keep coming back; "
    "if the same problems repeat, the earlier changes were too small, so change the prompt more boldly now."
)


@dataclass
class Momentum:
    k: int = 3
    history: list[str] = field(default_factory=list)
    name: str = "tmnt"
    needs_scores: bool = False

    def sections(self, ctx: UpdateContext) -> list[RequestSection]:
        if not self.history:
            return []
        past = self.history[-self.k :]
        body = "\n".join(f"[{len(past) - i} step(s) ago] {g.strip()}" for i, g in enumerate(past))
        return [RequestSection(tag="PAST_FEEDBACK", body=body, technique=self.name, instruction=INSTRUCTION)]

    def check(self, ctx: UpdateContext, candidate: str) -> CheckResult:
        return CheckResult(candidate)

    def observe(self, outcome: StepOutcome) -> None:
        if outcome.accepted and outcome.gradient.text.strip():
            self.history.append(outcome.gradient.text)
            del self.history[: -self.k]

    def state_dict(self) -> dict[str, Any]:
        return {"k": self.k, "history": list(self.history)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.k = int(state.get("k", self.k))
        self.history = list(state.get("history", []))
