"""The record of one optimizer step (`StepReport`) and its JSON form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dlpo.optim.base import Decision, Gradient, StepOutcome


def gradient_to_dict(g: Gradient) -> dict[str, Any]:
    return {"text": g.text, "critiques": list(g.critiques), "batch_score": g.batch_score}


@dataclass
class StepReport:
    """Everything the loop logs about one step. `failed`: no usable candidate, prompt kept."""

    step: int
    outcome: StepOutcome
    decision: Decision | None
    request: str
    raw_replies: list[str]
    metrics: dict[str, Any] = field(default_factory=dict)
    failed: bool = False

    @property
    def accepted(self) -> bool:
        return self.outcome.accepted

    def to_dict(self) -> dict[str, Any]:
        o = self.outcome
        return {
            "step": self.step,
            "failed": self.failed,
            "accepted": o.accepted,
            "outcome": {
                "prompt_before": o.prompt_before,
                "candidate": o.candidate,
                "accepted": o.accepted,
                "score_before": o.score_before,
                "score_candidate": o.score_candidate,
                "reason": o.reason,
                "gradient": gradient_to_dict(o.gradient),
            },
            "decision": asdict(self.decision) if self.decision is not None else None,
            "request": self.request,
            "raw_replies": list(self.raw_replies),
            "metrics": self.metrics,
        }
