"""A scripted task and scripted forward/backward engines whose replies are pure functions of the
request, so a resumed run (a new process, the same cache) sees exactly the same replies.

The forward "model" answers `a + b` correctly when the system prompt says "carefully" often
enough (more for larger `a % 5`), so different prompts score differently. The backward "model"
writes a critique, or, for an update request, a candidate derived from a hash of the request
(adding 0-3 "carefully" sentences), so some candidates are better and some worse.
"""

from __future__ import annotations

import hashlib
import re

from dlpo.engines.base import ChatRequest
from dlpo.engines.scripted import ScriptedEngine
from dlpo.tasks.base import Example, Score, Task


class SumScorer:
    name = "sum"

    def __call__(self, output: str, target: str) -> Score:
        found = re.findall(r"-?\d+", output)
        answer = found[-1] if found else None
        if answer == target:
            return Score(1.0, answer, "correct")
        return Score(0.0, answer, f"answered {answer}, expected {target}")


def make_task(n_train: int = 9, n_val: int = 5, n_test: int = 5) -> Task:
    def ex(split: str, i: int) -> Example:
        a, b = 3 * i + len(split), 7 + i
        return Example(f"{split}-{i}", f"Question: what is {a} + {b}?", str(a + b))

    return Task(
        name="sums",
        train=[ex("train", i) for i in range(n_train)],
        val=[ex("val", i) for i in range(n_val)],
        test=[ex("test", i) for i in range(n_test)],
        scorer=SumScorer(),
        answer_instruction="Answer as 'Answer: N'.",
        initial_prompt="Solve the problem.",
    )


def forward_reply(request: ChatRequest) -> str:
    system, user = request.messages[0].content, request.messages[-1].content
    a, b = (int(x) for x in re.findall(r"what is (\d+) \+ (\d+)", user)[0])
    skill = system.lower().count("carefully")
    correct = (a % 5) < skill + 1
    return f"Let me see. Answer: {a + b if correct else a + b + 1}"


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def backward_reply(request: ChatRequest) -> str:
    everything = "\n".join(m.content for m in request.messages)
    if "IMPROVED_VARIABLE" in everything:
        h = _digest(everything)
        extra = " Check every sum carefully." * (h[0] % 4)
        return f"<IMPROVED_VARIABLE>Solve the problem step {h[1] % 7}.{extra}</IMPROVED_VARIABLE>"
    h = _digest(everything)
    return f"The prompt should ask the model to add carefully (note {h[0] % 10})."


def engines() -> tuple[ScriptedEngine, ScriptedEngine]:
    return ScriptedEngine(forward_reply, name="fwd"), ScriptedEngine(backward_reply, name="bwd")


class SlowEngine:
    """Wraps an engine so every request takes `delay` seconds (to kill a process mid-step)."""

    def __init__(self, inner: ScriptedEngine, delay: float) -> None:
        self.inner, self.delay = inner, delay

    @property
    def cache_id(self) -> str:
        return self.inner.cache_id

    async def complete(self, requests):  # type: ignore[no-untyped-def]
        import asyncio

        await asyncio.sleep(self.delay * len(requests))
        return await self.inner.complete(requests)

    async def aclose(self) -> None:
        return None


def make_config(preset: str = "dlpo", **kw):  # type: ignore[no-untyped-def]
    from dlpo.optim.presets import resolve_recipe
    from dlpo.train import TrainConfig

    values = {
        "task": "sums",
        "recipe": resolve_recipe(preset),
        "steps": 4,
        "batch_size": 3,
        "seed": 1,
        "forward": "local:qwen2.5-0.5b",
        "backward": "local:qwen2.5-0.5b",
    }
    values.update(kw)
    return TrainConfig.build(**values)
