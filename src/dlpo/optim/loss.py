"""The textual loss of a minibatch: the forward pass, its scores, and `backward()`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dlpo.engines.client import LLMClient
from dlpo.evaluation import DEFAULT_FORWARD_MAX_TOKENS, EvalResult, evaluate
from dlpo.optim.base import Gradient
from dlpo.optim.feedback import FeedbackPolicy
from dlpo.optim.gradient import compute_gradient
from dlpo.optim.textgrad_gradient import compute_textgrad_gradient
from dlpo.optim.variable import Prompt
from dlpo.tasks.base import Example, Task


@dataclass
class TextualLoss:
    """The forward result of `prompt` on a minibatch; `backward()` turns it into `prompt.grad`.

    The loss is computed under the prompt text at forward time (`prompt_text`), so a later change
    of `prompt.text` does not change what the critics see.
    """

    prompt: Prompt
    task: Task
    result: EvalResult
    prompt_text: str = ""

    def __post_init__(self) -> None:
        if not self.prompt_text:
            self.prompt_text = self.prompt.text

    @property
    def value(self) -> float:
        """1 - mean score of the batch."""
        return 1.0 - self.result.mean

    async def backward(
        self,
        client: LLMClient,
        *,
        critique_max_tokens: int = 200,
        reduction_max_tokens: int = 300,
        critique_correct: bool = False,
        gradient: str = "dlpo",
        policy: FeedbackPolicy | None = None,
        target: str | None = None,
    ) -> Gradient:
        """Critique the wrong examples (all with `critique_correct`; one concurrent batch, role
        "backward"), reduce two or more critiques in one call, set and return `self.prompt.grad`.
        With `gradient="textgrad"`: TextGrad's two hops over every example and their concatenation
        (`optim/textgrad_gradient.py`; the reduction options do not apply). `policy` is the feedback
        switch and the task conventions, applied to both kinds alike. Engine errors propagate.
        `target`: for a program, the name of the prompt to critique; the critics then read each
        example's whole trace with that prompt's call marked, and the gradient is for that prompt."""
        snapshot = Prompt(self.prompt_text, role_description=self.prompt.role_description)
        result = self.result
        if target is not None:
            snapshot, result = _program_view(self.prompt_text, result, target)
        if gradient not in ("dlpo", "textgrad"):
            raise ValueError(f"unknown gradient {gradient!r}; allowed: dlpo, textgrad")
        if gradient == "textgrad":
            grad = await compute_textgrad_gradient(
                client,
                snapshot,
                self.task,
                result,
                critique_max_tokens=critique_max_tokens,
                policy=policy,
            )
            self.prompt.grad = grad
            return grad
        grad = await compute_gradient(
            client,
            snapshot,
            self.task,
            result,
            critique_max_tokens=critique_max_tokens,
            reduction_max_tokens=reduction_max_tokens,
            critique_correct=critique_correct,
            policy=policy,
        )
        self.prompt.grad = grad
        return grad


def _program_view(prompt_text: str, result: EvalResult, target: str) -> tuple[Prompt, EvalResult]:
    """What the critics of a program step see: the target prompt as the prompt under review, and as
    each example's reply the program's trace (every call, the target's marked, the final output)."""
    from dataclasses import replace

    from dlpo.programs import parse_prompts, trace_text

    prompts = parse_prompts(prompt_text)
    role = f"system prompt of the '{target}' call of a multi-step program"
    view = tuple(replace(r, output=trace_text(r.calls, r.output, target)) for r in result.results)
    return Prompt(prompts[target], role_description=role), EvalResult(view)


async def textual_loss(
    client: LLMClient,
    task: Task,
    prompt: Prompt,
    batch: Sequence[Example],
    *,
    max_tokens: int = DEFAULT_FORWARD_MAX_TOKENS,
) -> TextualLoss:
    """Forward pass: the forward model answers `batch` under `prompt.text` (one concurrent batch,
    role "forward"), and the task scorer scores each answer with a reason."""
    result = await evaluate(client, task, prompt.text, batch, role="forward", max_tokens=max_tokens)
    return TextualLoss(prompt=prompt, task=task, result=result, prompt_text=prompt.text)
