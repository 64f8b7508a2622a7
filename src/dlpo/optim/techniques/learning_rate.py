"""TLR - the textual learning rate: a measured budget of sentence edits per step.

The request asks for *at most* `b` edits, with a tiny worked example, and the check enforces
exactly that (<= b). Edits are *measured* on edit units that cannot be gamed (the reference never
checks - bug B15; see `dlpo.optim.sentences`): clauses joined by ';' or ':' and list items are
separate units, and a unit of more than `WORD_CAP` (25) words counts one edit per started 25 words;
an added, deleted or modified unit counts its weight. The request states these rules too.

Over budget: one re-ask that states the count it made; still over: keep the best in-budget variant
of this step, else trim the diff to the budget (old units plus the first proposed edits that fit).
The budget is the optimizer's `lr` (set by an `LRScheduler` under TLRD), or this technique's own
`lr` when the optimizer has none.

`bold_above` keeps the reference's other branch as an option: when lr > bold_above (reference 10)
and the contrastive memory holds >= `bold_min_memory` prompts, the request asks for bold changes
instead and the budget is not enforced.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from typing import Any

from dlpo.optim.base import CheckResult, RequestSection, StepOutcome, UpdateContext
from dlpo.optim.sentences import WORD_CAP, SentenceDiff, sentence_diff
from dlpo.optim.trimming import trim_to_budget

# Placeholder sentences, not real instructions: a small model copies an example's sentences into
# the prompt (seen with "Show each step; check each number." on a label task), and the optimizer
# rejects a new sentence copied from the request.
EXAMPLE = (
    "Example of counting edits:\n"
    'Old: "Rule A. Rule B. Rule C."\n'
    'New: "Rule A, stated more precisely. Rule C. Rule D."\n'
    'Edits: 1 modified ("Rule A." -> "Rule A, stated more precisely."), 1 deleted ("Rule B."), '
    '1 added ("Rule D.") = 3 edits.\n'
    'Adding "Rule E; rule F." is 2 edits.'
)

RULES = (
    f"Adding, deleting or modifying one sentence counts as 1 edit. Clauses separated by ';' or ':' and list "
    f"items count as separate sentences, and a sentence longer than {WORD_CAP} words counts as one sentence "
    f"per {WORD_CAP} words."
)

BOLD = (
    "The last steps have not helped enough. Make bold, substantial changes this time: restructure the "
    "prompt or try a clearly different strategy, keeping only what clearly works."
)
# measured: candidates measured; edits_measured: their edits, summed; over_budget: candidates over
# the budget; reasks: re-asks requested; trims: candidates trimmed to the budget; variants_kept:
# steps that fell back to an earlier in-budget candidate; bold: steps that asked for bold changes.
ACTIVITY_KEYS = ("measured", "edits_measured", "over_budget", "reasks", "trims", "variants_kept", "bold")


def _counts(saved: dict[str, Any] | None = None) -> dict[str, int]:
    saved = saved or {}
    return {k: int(saved.get(k, 0)) for k in ACTIVITY_KEYS}


def _plural(b: int) -> str:
    return f"{b} sentence{'s' if b != 1 else ''}"


@dataclass
class LearningRate:
    """`exact` is accepted for recipes written before the request said "at most"; it is ignored:
    the request and the check both mean at most `lr` edits."""

    lr: int = 4
    bold_above: int | None = None
    bold_min_memory: int = 4
    name: str = "tlr"
    section_order: int = 50  # where its request section goes (see optim.base.Technique)
    check_order: int = 20
    needs_scores: bool = False
    exact: InitVar[bool | None] = None
    counters: dict[str, int] = field(default_factory=_counts, init=False, repr=False)

    def __post_init__(self, exact: bool | None) -> None:
        del exact  # see the class docstring

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
            self.counters["bold"] += 1
            return [RequestSection(tag="", body="", technique=self.name, instruction=BOLD)]
        b = self.budget(ctx)
        instruction = (
            f"Learning rate: change at most {_plural(b)} of the current prompt. {RULES} Keep every other "
            "sentence word for word."
        )
        return [RequestSection(tag="", body=EXAMPLE, technique=self.name, instruction=instruction)]

    def check(self, ctx: UpdateContext, candidate: str) -> CheckResult:
        b = self.budget(ctx)
        diff = sentence_diff(ctx.prompt, candidate)
        variants: list[tuple[int, str]] = ctx.notes.setdefault("tlr_variants", [])
        variants.append((diff.total, candidate))
        self.counters["measured"] += 1
        self.counters["edits_measured"] += diff.total
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
        self.counters["over_budget"] += 1
        if ctx.notes.get("reask_allowed"):
            self.counters["reasks"] += 1
            return CheckResult(candidate, reask=self._reask(diff, b), violations=1, metrics=metrics)
        in_budget = [v for v in variants if v[0] <= b]
        if in_budget:
            self.counters["variants_kept"] += 1
            best = max(reversed(in_budget), key=lambda v: v[0])
            return CheckResult(best[1], violations=1, metrics={**metrics, "edits_final": best[0]})
        self.counters["trims"] += 1
        trimmed = trim_to_budget(ctx.prompt, candidate, b)
        final = sentence_diff(ctx.prompt, trimmed).total
        return CheckResult(trimmed, violations=1, metrics={**metrics, "trimmed": True, "edits_final": final})

    @staticmethod
    def _reask(diff: SentenceDiff, b: int) -> str:
        return (
            f"Your previous rewrite made {diff.total} sentence edits ({diff.added} added, {diff.deleted} "
            f"deleted, {diff.modified} modified), but at most {b} are allowed. Clauses separated by ';' or ':' "
            f"and list items count as separate sentences, and a sentence longer than {WORD_CAP} words counts as "
            f"several. Start again from the current prompt, change at most {_plural(b)}, and keep all others "
            "word for word."
        )

    def activity(self) -> dict[str, int]:
        """Cumulative counts of what this technique did (see ACTIVITY_KEYS)."""
        return dict(self.counters)

    def observe(self, outcome: StepOutcome) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"lr": self.lr, "activity": self.activity()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.lr = int(state.get("lr", self.lr))
        self.counters = _counts(state.get("activity"))
