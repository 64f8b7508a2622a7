"""TLR - the textual learning rate: a measured budget of sentence edits per step.

The request states the budget with a tiny worked example. The candidate's edits are *measured*
with the sentence diff (added + deleted + modified; the reference never checks - bug B15). Over
budget: one re-ask that states the count it made; still over: keep the best in-budget variant of
this step, else trim the diff to the budget. The budget is the optimizer's `lr` (set by an
`LRScheduler` under TLRD), or this technique's own `lr` when the optimizer has none.

`bold_above` keeps the reference's other branch as an option: when lr > bold_above (reference 10)
and the contrastive memory holds >= `bold_min_memory` prompts, the request asks for bold changes
instead and the budget is not enforced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlpo.optim.base import CheckResult, RequestSection, StepOutcome, UpdateContext
from dlpo.optim.sentences import sentence_diff, trim_to_budget

EXAMPLE = (
    "Example of counting edits:\n"
    'Old: "Solve the problem. Be brief. Give the answer."\n'
    "New: \"Solve the problem step by step. Give the answer. End with 'Answer: <number>'.\"\n"
    'Edits: 1 modified ("Solve the problem." -> "Solve the problem step by step."), 1 deleted '
    '("Be brief."), 1 added ("End with ...") = 3 edits.'
)

BOLD = (
    "The last steps have not helped enough. Make bold, substantial changes this time: restructure the "
    "prompt or try a clearly different strategy, keeping only what clearly works."
)


@dataclass
class LearningRate:
    lr: int = 4
    exact: bool = True  # the request says "exactly" (reference wording); enforcement caps at lr
    bold_above: int | None = None
    bold_min_memory: int = 4
    name: str = "tlr"
    needs_scores: bool = False

    def budget(self, ctx: UpdateContext) -> int:
        value = ctx.lr if ctx.lr is not None else self.lr
        return max(1, int(float(value) + 0.5))

    def _bold(self, ctx: UpdateContext) -> bool:
        return (
            self.bold_above is not None
            and self.budget(ctx) > self.bold_above
            and int(ctx.notes.get("contrastive_memory", 0)) >= self.bold_min_memory
        )

    def sections(self, ctx: UpdateContext) -> list[RequestSection]:
        if self._bold(ctx):
            ctx.notes["tlr_bold"] = True
            return [RequestSection(tag="", body="", technique=self.name, instruction=BOLD)]
        b = self.budget(ctx)
        word = "exactly" if self.exact else "at most"
        instruction = (
            f"Learning rate: change {word} {b} sentence{'s' if b != 1 else ''} of the current prompt. Adding, "
            "deleting or modifying one sentence counts as 1 edit. Keep every other sentence word for word."
        )
        return [RequestSection(tag="", body=EXAMPLE, technique=self.name, instruction=instruction)]

    def check(self, ctx: UpdateContext, candidate: str) -> CheckResult:
        b = self.budget(ctx)
        diff = sentence_diff(ctx.prompt, candidate)
        variants: list[tuple[int, str]] = ctx.notes.setdefault("tlr_variants", [])
        variants.append((diff.total, candidate))
        metrics: dict[str, Any] = {
            "edits_budget": b,
            "edits_measured": diff.total,
            "edits_attempts": [v[0] for v in variants],
            "reasked": ctx.notes.get("reask_by") == self.name,
            "trimmed": False,
            "tlr_bold": bool(ctx.notes.get("tlr_bold")),
        }
        if ctx.notes.get("tlr_bold") or diff.total <= b:
            return CheckResult(candidate, metrics={**metrics, "edits_final": diff.total})
        if ctx.notes.get("reask_allowed"):
            reask = (
                f"Your previous rewrite made {diff.total} sentence edits ({diff.added} added, {diff.deleted} "
                f"deleted, {diff.modified} modified), but at most {b} are allowed. Start again from the current "
                f"prompt, change at most {b} sentence{'s' if b != 1 else ''}, and keep all others word for word."
            )
            return CheckResult(candidate, reask=reask, violations=1, metrics=metrics)
        in_budget = [v for v in variants if v[0] <= b]
        if in_budget:
            best = max(reversed(in_budget), key=lambda v: v[0])
            return CheckResult(best[1], violations=1, metrics={**metrics, "edits_final": best[0]})
        trimmed = trim_to_budget(ctx.prompt, candidate, b)
        final = sentence_diff(ctx.prompt, trimmed).total
        return CheckResult(trimmed, violations=1, metrics={**metrics, "trimmed": True, "edits_final": final})

    def observe(self, outcome: StepOutcome) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"lr": self.lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.lr = int(state.get("lr", self.lr))
