"""A technique of your own, passed to `dlpo.optimize` as an object: a word budget for the prompt.

    .venv/bin/python examples/custom_technique.py [--run-dir runs/word-budget]

A technique is one small object (see `dlpo.Technique`): a request section, a check that may repair
the candidate, and its state for resume. This one asks the optimizer to keep the prompt under
`max_words` words and cuts a longer candidate at its last full sentence within the budget. Nothing
else in dlpo needs to know about it; its activity is reported with the built-in techniques'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from _sizes import args, sizes

import dlpo
from dlpo.optim.sentences import split_sentences


@dataclass
class WordBudget:
    max_words: int = 40
    name: str = "word-budget"
    section_order: int = 45  # after the built-in sections, before TLR's edit budget
    check_order: int = 30  # after TDO's repair and TLR's edit count
    cut: int = 0

    def sections(self, ctx: Any) -> list[dlpo.RequestSection]:
        return [
            dlpo.RequestSection(
                tag="",
                body="",
                technique=self.name,
                instruction=f"Word budget: the new prompt must have at most {self.max_words} words.",
            )
        ]

    def check(self, ctx: Any, candidate: str) -> dlpo.CheckResult:
        if len(candidate.split()) <= self.max_words:
            return dlpo.CheckResult(candidate)
        kept: list[str] = []
        for sentence in split_sentences(candidate):
            if len(" ".join([*kept, sentence]).split()) > self.max_words:
                break
            kept.append(sentence)
        self.cut += 1
        return dlpo.CheckResult(" ".join(kept) or candidate, violations=1, metrics={"word_budget_cut": True})

    def observe(self, outcome: Any) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"max_words": self.max_words, "cut": self.cut}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.max_words, self.cut = int(state["max_words"]), int(state["cut"])

    def activity(self) -> dict[str, int]:
        return {"requests": 1 if self.max_words else 0, "cut": self.cut}


def main() -> None:
    a = args(__doc__.splitlines()[0])
    result = dlpo.optimize(
        "demo",
        preset="tgd",
        techniques=["tlr", WordBudget(max_words=40)],
        run_dir=a.run_dir,
        forward_max_tokens=160,
        **sizes(
            {"steps": 3, "val_limit": 10, "test_limit": 20}, {"steps": 1, "val_limit": 3, "test_limit": 3}
        ),
    )
    print(f"best prompt ({len(result.best.prompt.split())} words): {result.best.prompt}")


if __name__ == "__main__":
    main()
