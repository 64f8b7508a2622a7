"""TDO - textual dropout: freeze a seeded random share of the prompt's sentences for one step.

How many: k = min(ceil(p * n), n - 1) of the n sentences (ceil as in the reference, computed on
p * n rounded to 9 decimals so float noise such as 0.28 * 25 = 7.000000000000001 does not add one).
Dropout never freezes every sentence: with all of them frozen the step could change nothing, so at
most n - 1 are frozen, and none of a one-sentence prompt. The k sentences are chosen with the
optimizer's RNG and listed in the request.

The candidate is then checked (the reference never checks - bug B15): a frozen sentence that is
missing verbatim (changed or dropped) is restored. Old and new sentences are paired by content
(`dlpo.optim.sentences`), so the changed version of a frozen sentence is replaced by the frozen
original, a dropped one comes back at its old place among its neighbours, and every other edit of
the candidate (new sentences included) is kept. A frozen sentence that was only moved counts as kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dlpo.optim.base import CheckResult, RequestSection, StepOutcome, UpdateContext
from dlpo.optim.sentences import Edit, apply_edits, normalize, split_sentences

INSTRUCTION = (
    "Dropout: the sentences below are frozen for this step. Copy each of them into the new prompt word for "
    "word, in the same place; change only the other sentences."
)
# steps: steps that froze sentences; frozen: sentences frozen; violated: frozen sentences the model
# changed or dropped; restored: those put back by the repair (counted once per step).
ACTIVITY_KEYS = ("steps", "frozen", "violated", "restored")


def _counts(saved: dict[str, Any] | None = None) -> dict[str, int]:
    saved = saved or {}
    return {k: int(saved.get(k, 0)) for k in ACTIVITY_KEYS}


@dataclass
class Dropout:
    p: float = 0.3
    name: str = "tdo"
    section_order: int = 30  # where its request section goes (see optim.base.Technique)
    check_order: int = 10
    needs_scores: bool = False
    counters: dict[str, int] = field(default_factory=_counts, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"dropout p must be in [0, 1], got {self.p}")

    def frozen_count(self, n: int) -> int:
        """ceil(p * n) sentences, but never all of them: at most n - 1 (none when n == 1)."""
        return max(0, min(math.ceil(round(self.p * n, 9)), n - 1))

    def sections(self, ctx: UpdateContext) -> list[RequestSection]:
        sentences = split_sentences(ctx.prompt)
        k = self.frozen_count(len(sentences))
        if k == 0:
            ctx.notes["tdo_frozen"] = []
            return []
        frozen = sorted(ctx.rng.sample(range(len(sentences)), k))
        ctx.notes["tdo_frozen"] = frozen
        self.counters["steps"] += 1
        self.counters["frozen"] += k
        body = "\n".join(f"- {sentences[i]}" for i in frozen)
        return [RequestSection(tag="DROPOUT", body=body, technique=self.name, instruction=INSTRUCTION)]

    def check(self, ctx: UpdateContext, candidate: str) -> CheckResult:
        frozen: list[int] = list(ctx.notes.get("tdo_frozen", []))
        old = split_sentences(ctx.prompt)
        present = {normalize(s) for s in split_sentences(candidate)}
        violated = {i for i in frozen if normalize(old[i]) not in present}
        metrics: dict[str, Any] = {"dropout_frozen": len(frozen), "dropout_violations": len(violated)}
        if not violated:
            self._count_step(ctx, violated=0, restored=0)
            return CheckResult(candidate, metrics=metrics)

        def keep(edit: Edit) -> bool:
            return not (edit.kind in ("delete", "modify") and edit.old_index in violated)

        repaired = apply_edits(ctx.prompt, candidate, keep, level="sentence")
        after = {normalize(s) for s in split_sentences(repaired)}
        metrics["dropout_restored"] = sum(normalize(old[i]) in after for i in violated)
        self._count_step(ctx, violated=len(violated), restored=metrics["dropout_restored"])
        return CheckResult(repaired, violations=len(violated), metrics=metrics)

    def _count_step(self, ctx: UpdateContext, **counts: int) -> None:
        """Add this check's counts, replacing those of an earlier check of the same step: after a
        re-ask the checks run again, and only the last repair reaches the step's candidate."""
        before: dict[str, int] = ctx.notes.get("tdo_counted", {})
        for key, value in counts.items():
            self.counters[key] += value - before.get(key, 0)
        ctx.notes["tdo_counted"] = dict(counts)

    def activity(self) -> dict[str, int]:
        """Cumulative counts of what this technique did (see ACTIVITY_KEYS)."""
        return dict(self.counters)

    def observe(self, outcome: StepOutcome) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p, "activity": self.activity()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.p = float(state.get("p", self.p))
        self.counters = _counts(state.get("activity"))
