"""TRegu - textual regularization: after a warm-up, ask to simplify and delete useless sentences.

Warm-up: `warmup_prompts` distinct prompts seen (reference 16 remembered prompts), or
`warmup_steps` steps when set. The count is kept here, so TRegu works without TCL (the reference
needs TCL's memory - bug B5). Prompt length (words, sentences) is logged every step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from dlpo.optim.base import CheckResult, RequestSection, StepOutcome, UpdateContext
from dlpo.optim.sentences import normalize, text_stats

INSTRUCTION = (
    "Regularization: keep the prompt simple. Rewrite overly long or complex sentences into short, plain "
    "ones, and delete any sentence that has no effect, or a negative effect, on the task."
)


def _digest(text: str) -> str:
    return hashlib.sha1(normalize(text).encode("utf-8")).hexdigest()[:16]


@dataclass
class Regularization:
    warmup_prompts: int = 16
    warmup_steps: int | None = None
    seen: list[str] = field(default_factory=list)  # digests of distinct prompts
    steps: int = 0
    name: str = "tregu"
    needs_scores: bool = False

    @property
    def active(self) -> bool:
        if self.warmup_steps is not None:
            return self.steps >= self.warmup_steps
        return len(self.seen) >= self.warmup_prompts

    def sections(self, ctx: UpdateContext) -> list[RequestSection]:
        ctx.notes["tregu_active"] = self.active
        if not self.active:
            return []
        return [RequestSection(tag="", body="", technique=self.name, instruction=INSTRUCTION)]

    def check(self, ctx: UpdateContext, candidate: str) -> CheckResult:
        stats = text_stats(candidate)
        return CheckResult(
            candidate,
            metrics={
                "regularization_active": self.active,
                "candidate_words": stats["words"],
                "candidate_sentences": stats["sentences"],
            },
        )

    def _see(self, text: str) -> None:
        d = _digest(text)
        if d not in self.seen:
            self.seen.append(d)

    def observe(self, outcome: StepOutcome) -> None:
        self.steps += 1
        self._see(outcome.prompt_before)
        if outcome.candidate is not None:
            self._see(outcome.candidate)

    def state_dict(self) -> dict[str, Any]:
        return {
            "warmup_prompts": self.warmup_prompts,
            "warmup_steps": self.warmup_steps,
            "seen": list(self.seen),
            "steps": self.steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.warmup_prompts = int(state.get("warmup_prompts", self.warmup_prompts))
        self.warmup_steps = state.get("warmup_steps", self.warmup_steps)
        self.seen = list(state.get("seen", []))
        self.steps = int(state.get("steps", 0))
