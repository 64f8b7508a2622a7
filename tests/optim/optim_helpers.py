"""Shared helpers for the optimizer tests: a tiny hand-made task and scripted clients.

A module of its own (not `conftest`), so that running several test folders at once cannot import
another folder's conftest under the same name."""

from __future__ import annotations

import re
from collections.abc import Callable

from dlpo.engines.base import ChatRequest, Completion
from dlpo.engines.client import LLMClient
from dlpo.engines.scripted import ScriptedEngine
from dlpo.optim.base import Gradient
from dlpo.tasks.base import Example, Score, Task


class LastNumberScorer:
    name = "last_number"

    def __call__(self, output: str, target: str) -> Score:
        nums = re.findall(r"-?\d+", output)
        if not nums:
            return Score(0.0, None, f"no number found, expected {target}")
        ok = nums[-1] == target
        return Score(
            1.0 if ok else 0.0, nums[-1], "correct" if ok else f"answered {nums[-1]}, expected {target}"
        )


def make_task() -> Task:
    train = [
        Example("t1", "Question: Tom has 3 apples and buys 4 more. How many apples does he have?", "7"),
        Example("t2", "Question: A box holds 6 eggs. How many eggs are in 2 boxes?", "12"),
        Example("t3", "Question: Sara had 10 pens and gave away 4. How many pens are left?", "6"),
    ]
    return Task(
        name="tiny",
        train=train,
        val=train[:2],
        test=train[1:],
        scorer=LastNumberScorer(),
        answer_instruction="End with 'Answer: <number>'.",
        initial_prompt="Answer the question.",
    )


def scripted_client(fn: Callable[[ChatRequest], str]) -> tuple[LLMClient, ScriptedEngine]:
    engine = ScriptedEngine(fn)
    return LLMClient(engine), engine


def user_text(request: ChatRequest) -> str:
    return request.messages[-1].content


def grad(
    text: str = "Tell the model to show its steps and end with the answer line.", sources=()
) -> Gradient:
    return Gradient(text=text, critiques=(text,), batch_score=0.5, sources=tuple(sources))


class FinishEngine(ScriptedEngine):
    """A scripted engine whose script may return (text, finish_reason), e.g. to fake max_tokens cut-offs."""

    async def complete(self, requests):
        out = []
        for request in requests:
            self.requests.append(request)
            reply = self._fn(request)
            text, finish = reply if isinstance(reply, tuple) else (reply, "stop")
            [c] = await ScriptedEngine(lambda _, t=text: t).complete([request])
            out.append(Completion(c.text, c.prompt_tokens, c.completion_tokens, 0.0, finish, self.cache_id))
        return out


class SpyClient(LLMClient):
    """Records the size and role of every batch sent through the client."""

    def __init__(self, engine):
        super().__init__(engine)
        self.batches: list[tuple[str, int]] = []

    async def complete(self, requests, role):
        self.batches.append((role, len(requests)))
        return await super().complete(requests, role)
