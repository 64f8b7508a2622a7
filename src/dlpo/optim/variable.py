"""The optimized variable: a prompt with its textual gradient (like a torch Parameter)."""

from __future__ import annotations

from dataclasses import dataclass

from dlpo.optim.base import Gradient

DEFAULT_ROLE_DESCRIPTION = (
    "system prompt to a somewhat capable language model that specifies the behavior and strategies "
    "for the question-answering task"
)


@dataclass
class Prompt:
    """`text` is the current prompt. `grad` is set by `TextualLoss.backward` and cleared by
    `TextualGradientDescent.zero_grad()`. `role_description` tells the backward model what the
    text is for (it appears in the critique and update requests)."""

    text: str
    grad: Gradient | None = None
    role_description: str = DEFAULT_ROLE_DESCRIPTION

    def __str__(self) -> str:
        return self.text
