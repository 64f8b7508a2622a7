"""TDO - textual dropout: freeze a seeded random share of the prompt's sentences for one step.

ceil(p * n) sentences are chosen with the optimizer's RNG and listed in the request. The
candidate is then checked (the reference never checks - bug B15): a frozen sentence that is
missing verbatim (changed or dropped) is restored at its original place relative to its
neighbours, replacing its changed version. A frozen sentence that was only moved counts as kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dlpo.optim.base import CheckResult, RequestSection, StepOutcome, UpdateContext
from dlpo.optim.sentences import Edit, apply_edits, normalize, split_sentences

INSTRUCTION = (
    "Dropout: the sentences below are frozen for this step. Copy each of them into the new prompt word for "
    "word, in the same place; change only the other sentences."
)


@dataclass
class Dropout:
    p: float = 0.3
    name: str = "tdo"
    needs_scores: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"dropout p must be in [0, 1], got {self.p}")

    def sections(self, ctx: UpdateContext) -> list[RequestSection]:
        sentences = split_sentences(ctx.prompt)
        k = math.ceil(self.p * len(sentences))
        if k == 0:
            ctx.notes["tdo_frozen"] = []
            return []
        frozen = sorted(ctx.rng.sample(range(len(sentences)), k))
        ctx.notes["tdo_frozen"] = frozen
        body = "\n".join(f"- {sentences[i]}" for i in frozen)
        return [RequestSection(tag="DROPOUT", body=body, technique=self.name, instruction=INSTRUCTION)]

    def check(self, ctx: UpdateContext, candidate: str) -> CheckResult:
        frozen: list[int] = list(ctx.notes.get("tdo_frozen", []))
        old = split_sentences(ctx.prompt)
        present = {normalize(s) for s in split_sentences(candidate)}
        violated = {i for i in frozen if normalize(old[i]) not in present}
        metrics: dict[str, Any] = {"dropout_frozen": len(frozen), "dropout_violations": len(violated)}
        if not violated:
            return CheckResult(candidate, metrics=metrics)

        def keep(edit: Edit) -> bool:
            return not (edit.kind in ("delete", "modify") and edit.old_index in violated)

        repaired = apply_edits(ctx.prompt, candidate, keep)
        after = {normalize(s) for s in split_sentences(repaired)}
        metrics["dropout_restored"] = sum(normalize(old[i]) in after for i in violated)
        return CheckResult(repaired, violations=len(violated), metrics=metrics)

    def observe(self, outcome: StepOutcome) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.p = float(state.get("p", self.p))
