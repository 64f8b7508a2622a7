"""The warm start of a run (`TrainConfig.warm_start`): the induced prompt and the original's score.

`warm_start(...)` induces a prompt (`dlpo.optim.induction`) and validates the original prompt, so
the run can record both prompts' validation scores (and, at the end, both test scores): the effect
of the warm start is measured apart from the techniques'. Every method calls it the same way: the
textual-gradient loop and APO then start from the induced prompt; the human baseline keeps its
given prompt and only scores the induced one beside it (docs/feedback.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from dlpo.engines.client import LLMClient
from dlpo.evaluation import evaluate
from dlpo.optim.induction import induce
from dlpo.tasks.base import Example, Task
from dlpo.tasks.conventions import TaskFacts


@dataclass
class PromptRecord:
    prompt: str
    val: float | None = None
    test: float | None = None


@dataclass
class WarmStart:
    """`used`: the run starts from `induced` (False when induction failed, or for the human
    baseline, which evaluates its given prompt); `reason` says why not."""

    original: PromptRecord
    induced: PromptRecord | None
    used: bool
    reason: str = ""
    examples: list[str] = field(default_factory=list)

    @property
    def start(self) -> str:
        """The prompt the run starts from."""
        return self.induced.prompt if self.used and self.induced is not None else self.original.prompt

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WarmStart:
        induced = data.get("induced")
        return cls(
            original=PromptRecord(**data["original"]),
            induced=PromptRecord(**induced) if induced else None,
            used=bool(data["used"]),
            reason=str(data.get("reason", "")),
            examples=list(data.get("examples", [])),
        )


async def warm_start(
    *,
    forward: LLMClient,
    backward: LLMClient,
    task: Task,
    train: Sequence[Example],
    val: Sequence[Example],
    facts: TaskFacts,
    original: str,
    seed: int,
    forward_max_tokens: int,
    max_prompt_words: int = 300,
    use: bool = True,
) -> WarmStart:
    """Induce a prompt from the train split and validate the original prompt (role "validation").
    `use=False` (the human baseline) records the induced prompt without starting from it."""
    induction = await induce(
        backward, task, train, facts, seed=seed, original=original, max_words=max_prompt_words
    )
    result = await evaluate(forward, task, original, val, role="validation", max_tokens=forward_max_tokens)
    induced = PromptRecord(induction.prompt) if induction.prompt is not None else None
    used = use and induced is not None
    reason = (
        induction.reason if induced is None else ("ok" if used else "not used: the method keeps its prompt")
    )
    return WarmStart(PromptRecord(original, result.mean), induced, used, reason, induction.examples)
