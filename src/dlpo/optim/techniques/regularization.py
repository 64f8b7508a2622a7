"""TRegu - textual regularization: after a warm-up, ask to simplify and delete useless sentences.

Warm-up: `warmup` distinct prompts seen (prompts before and candidates after each step), or
`warmup_steps` steps when that is set. The reference waits for 16 remembered prompts, a value
meant for runs of ~80 steps; a short run would never reach it. So when the run's planned number of
steps is known (`planned_steps`), the warm-up scales with it:

    warmup = min(warmup_prompts, max(1, ceil(planned_steps / 4)))

(16 prompts for 64+ planned steps, 1 for a 4-step run), and `warmup_prompts` (the paper's 16)
otherwise. The count is kept here, so TRegu works without TCL (the reference needs TCL's memory -
bug B5). Prompt length (words, sentences) is logged every step.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from dlpo.optim.base import CheckResult, RequestSection, StepOutcome, UpdateContext
from dlpo.optim.sentences import normalize, text_stats

INSTRUCTION = (
    "Regularization: keep the prompt simple. Rewrite overly long or complex sentences into short, plain "
    "ones, and delete any sentence that has no effect, or a negative effect, on the task."
)
ACTIVITY_KEYS = ("requests",)  # requests: update requests that asked to simplify


def _counts(saved: dict[str, Any] | None = None) -> dict[str, int]:
    saved = saved or {}
    return {k: int(saved.get(k, 0)) for k in ACTIVITY_KEYS}


def _digest(text: str) -> str:
    return hashlib.sha1(normalize(text).encode("utf-8")).hexdigest()[:16]


@dataclass
class Regularization:
    warmup_prompts: int = 16
    warmup_steps: int | None = None
    seen: list[str] = field(default_factory=list)  # digests of distinct prompts
    steps: int = 0
    name: str = "tregu"
    section_order: int = 40  # where its request section goes (see optim.base.Technique)
    needs_scores: bool = False
    planned_steps: int | None = None  # the run's planned optimizer steps, when known
    counters: dict[str, int] = field(default_factory=_counts, init=False, repr=False)

    @property
    def warmup(self) -> int:
        """Distinct prompts to see before acting (see the module docstring)."""
        if self.planned_steps is None:
            return self.warmup_prompts
        return min(self.warmup_prompts, max(1, math.ceil(self.planned_steps / 4)))

    def replan(self, planned_steps: int) -> None:
        """The run's planned steps changed: the warm-up scales with the new plan."""
        self.planned_steps = planned_steps

    @property
    def active(self) -> bool:
        if self.warmup_steps is not None:
            return self.steps >= self.warmup_steps
        return len(self.seen) >= self.warmup

    def sections(self, ctx: UpdateContext) -> list[RequestSection]:
        ctx.notes["tregu_active"] = self.active
        if not self.active:
            return []
        self.counters["requests"] += 1
        return [RequestSection(tag="", body="", technique=self.name, instruction=INSTRUCTION)]

    def check(self, ctx: UpdateContext, candidate: str) -> CheckResult:
        stats = text_stats(candidate)
        return CheckResult(
            candidate,
            metrics={
                "regularization_active": self.active,
                "regularization_warmup": self.warmup,
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

    def activity(self) -> dict[str, int]:
        """Cumulative counts of what this technique did (see ACTIVITY_KEYS)."""
        return dict(self.counters)

    def state_dict(self) -> dict[str, Any]:
        return {
            "warmup_prompts": self.warmup_prompts,
            "warmup_steps": self.warmup_steps,
            "planned_steps": self.planned_steps,
            "seen": list(self.seen),
            "steps": self.steps,
            "activity": self.activity(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.warmup_prompts = int(state.get("warmup_prompts", self.warmup_prompts))
        self.warmup_steps = state.get("warmup_steps", self.warmup_steps)
        self.planned_steps = state.get("planned_steps", self.planned_steps)
        self.seen = list(state.get("seen", []))
        self.steps = int(state.get("steps", 0))
        self.counters = _counts(state.get("activity"))
