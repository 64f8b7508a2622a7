"""Forward passes: answer examples under a system prompt and score them.

Shared by the training loss, acceptance checks, validation/test evaluation and the CLI's
`evaluate` command, so every forward call of the library is built the same way (and so hits the
same cache entries).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.tasks.base import Example, Score, Task

DEFAULT_FORWARD_MAX_TOKENS = 384


@dataclass(frozen=True)
class ExampleResult:
    example: Example
    output: str
    score: Score
    finish_reason: str = "stop"  # "length": the answer hit the max_tokens cap (it was cut off)
    calls: tuple[Any, ...] = ()  # a program's model calls (`dlpo.programs.Call`), in order


@dataclass(frozen=True)
class EvalResult:
    results: tuple[ExampleResult, ...]

    @property
    def mean(self) -> float:
        return sum(r.score.value for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def cut_off(self) -> int:
        """How many answers hit the max_tokens cap (finish_reason "length")."""
        return sum(r.finish_reason == "length" for r in self.results)

    @property
    def n(self) -> int:
        return len(self.results)

    def scores(self) -> list[float]:
        return [r.score.value for r in self.results]


def forward_request(
    task: Task, prompt: str, example: Example, max_tokens: int = DEFAULT_FORWARD_MAX_TOKENS, seed: int = 0
) -> ChatRequest:
    """The forward model's request: the optimized prompt as system message, the formatted question
    as user message, greedy decoding."""
    return ChatRequest.chat(
        prompt, task.format_input(example), temperature=0.0, max_tokens=max_tokens, seed=seed
    )


async def evaluate(
    client: LLMClient,
    task: Task,
    prompt: str,
    examples: Sequence[Example],
    role: str = "forward",
    max_tokens: int = DEFAULT_FORWARD_MAX_TOKENS,
) -> EvalResult:
    """Answer every example under `prompt` (one concurrent batch) and score each answer. A task
    with a program runs it on every example (its calls interleave on the engine)."""
    if task.program is not None:
        return await _evaluate_program(client, task, prompt, examples, role, max_tokens)
    requests = [forward_request(task, prompt, ex, max_tokens) for ex in examples]
    completions = await client.complete(requests, role=role)
    scores = await asyncio.gather(*(task.ascore(c.text, ex) for ex, c in zip(examples, completions)))
    return EvalResult(
        tuple(
            ExampleResult(ex, c.text, score, c.finish_reason)
            for ex, c, score in zip(examples, completions, scores)
        )
    )


async def _evaluate_program(
    client: LLMClient, task: Task, prompt: str, examples: Sequence[Example], role: str, max_tokens: int
) -> EvalResult:
    from dlpo.programs import parse_prompts, run_program

    prompts = parse_prompts(prompt)

    async def one(ex: Example) -> ExampleResult:
        output, calls, problem = await run_program(
            task.program,
            prompts,
            ex,
            client,
            role=role,
            max_tokens=max_tokens,
            timeout=task.program_timeout,
            on_error=task.on_error,
        )
        score = Score(0.0, None, problem) if problem else await task.ascore(output, ex)
        finish = calls[-1].finish_reason if calls else "stop"
        return ExampleResult(ex, output, score, finish, calls)

    return EvalResult(tuple(await asyncio.gather(*(one(ex) for ex in examples))))
