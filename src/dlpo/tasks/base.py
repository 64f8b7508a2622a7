"""The task contract: examples, splits, the answer-format instruction and a scorer with reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Example:
    id: str
    input: str
    target: str
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Score:
    """The score of one model output: `value` in [0, 1], the extracted `answer` (None when nothing
    could be extracted) and a short, specific `reason` ("answered 42, expected 48"). The reason is
    shown to the backward model, so it must say what went wrong."""

    value: float
    answer: str | None
    reason: str

    @property
    def correct(self) -> bool:
        return self.value >= 1.0


@runtime_checkable
class Scorer(Protocol):
    """Extracts the answer from a model output and compares it with the target."""

    name: str

    def __call__(self, output: str, target: str) -> Score: ...


@dataclass
class Task:
    """A prompt-optimization task.

    The model sees `format_input(example)`: the example's input followed by `answer_instruction`.
    The system prompt being optimized is separate; `initial_prompt` is where optimization starts.
    """

    name: str
    train: list[Example]
    val: list[Example]
    test: list[Example]
    scorer: Scorer
    answer_instruction: str = ""
    initial_prompt: str = ""
    description: str = ""
    source: str = ""
    # What kind of answer the scorer expects ("numeric", "choice", "label", "exact", "math"); for
    # listings and reports. Optional, added after the first contract.
    answer_type: str = ""
    # The best known hand-written prompt, when the task has one (the `human:reference` baseline).
    reference_prompt: str = ""

    @property
    def scorer_name(self) -> str:
        """The scorer's name, e.g. "numeric" (strict) or "reference:gsm8k" (the paper's lenient rule);
        reports print it so numbers say which scoring they used."""
        return getattr(self.scorer, "name", type(self.scorer).__name__)

    def format_input(self, example: Example) -> str:
        if not self.answer_instruction:
            return example.input
        return f"{example.input}\n\n{self.answer_instruction}"

    def score(self, output: str, example: Example) -> Score:
        return self.scorer(output, example.target)

    def split(self, name: str) -> list[Example]:
        if name not in ("train", "val", "test"):
            raise ValueError(f"unknown split {name!r}; expected train, val or test")
        return getattr(self, name)
