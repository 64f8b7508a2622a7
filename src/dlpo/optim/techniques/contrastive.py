"""TCL - textual contrastive learning: show the best and the worst prompt tried so far.

The memory holds (acceptance-set score, prompt) pairs, one per distinct prompt text (the
reference adds a duplicate every step - bug B6): the current prompt of each step and every
candidate, accepted or rejected, with its score. The request shows the best prompt, and the worst
one too when best - worst >= `gap` (reference 0.15). Needs scores, so the optimizer scores
candidates even under AlwaysAccept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlpo.optim.base import CheckResult, RequestSection, StepOutcome, UpdateContext
from dlpo.optim.sentences import normalize


@dataclass
class Contrastive:
    gap: float = 0.15
    memory: list[dict[str, Any]] = field(default_factory=list)  # [{"prompt": str, "score": float}]
    counters: dict[str, int] = field(default_factory=lambda: {"best_shown": 0, "worst_shown": 0})
    name: str = "tcl"
    section_order: int = 10  # where its request section goes (see optim.base.Technique)
    needs_scores: bool = True

    def remember(self, prompt: str, score: float) -> None:
        key = normalize(prompt)
        for entry in self.memory:
            if normalize(entry["prompt"]) == key:
                entry["score"] = score
                return
        self.memory.append({"prompt": prompt, "score": score})

    def activity(self) -> dict[str, int]:
        """Update requests that showed the best prompt, and the worst one (gap reached)."""
        return dict(self.counters)

    def ranked(self) -> list[dict[str, Any]]:
        """Best first; among equal scores the earlier entry first."""
        return sorted(self.memory, key=lambda e: -e["score"])

    def sections(self, ctx: UpdateContext) -> list[RequestSection]:
        ctx.notes["contrastive_memory"] = len(self.memory)
        if len(self.memory) < 2:
            return []
        ranked = self.ranked()
        best, worst = ranked[0], ranked[-1]
        self.counters["best_shown"] += 1
        if best["score"] - worst["score"] >= self.gap:
            self.counters["worst_shown"] += 1
            return [
                RequestSection(
                    tag="BETTER_VAR",
                    body=best["prompt"] or "(empty)",
                    technique=self.name,
                    instruction=(
                        "Contrast: two prompts tried before. Keep what the better one does and avoid what the "
                        f"poorer one does. Better prompt (accuracy {best['score']:.2f}):"
                    ),
                ),
                RequestSection(
                    tag="POOR_VAR",
                    body=worst["prompt"] or "(empty)",
                    technique=self.name,
                    instruction=f"Poorer prompt (accuracy {worst['score']:.2f}):",
                ),
            ]
        return [
            RequestSection(
                tag="BETTER_VAR",
                body=best["prompt"] or "(empty)",
                technique=self.name,
                instruction=(
                    f"Contrast: the best prompt tried so far (accuracy {best['score']:.2f}). Keep what makes it work:"
                ),
            )
        ]

    def check(self, ctx: UpdateContext, candidate: str) -> CheckResult:
        return CheckResult(candidate)

    def observe(self, outcome: StepOutcome) -> None:
        if outcome.score_before is not None:
            self.remember(outcome.prompt_before, outcome.score_before)
        if outcome.candidate is not None and outcome.score_candidate is not None:
            self.remember(outcome.candidate, outcome.score_candidate)

    def state_dict(self) -> dict[str, Any]:
        return {"gap": self.gap, "memory": [dict(e) for e in self.memory], "activity": dict(self.counters)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.gap = float(state.get("gap", self.gap))
        self.memory = [{"prompt": e["prompt"], "score": float(e["score"])} for e in state.get("memory", [])]
        saved = state.get("activity") or {}
        self.counters = {k: int(saved.get(k, 0)) for k in ("best_shown", "worst_shown")}
