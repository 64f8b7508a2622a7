"""A deterministic toy engine and task for tests of sweeps (never a stand-in for a real model).

Engine spec `py:dlpo.experiments.toy:engine` (see `experiments.engines`). The task is a task file
of sums ("What is 3 + 4?"); the toy forward model computes the sum and gets it right unless a hash
of (system prompt, question) says otherwise, so different prompts score differently and
deterministically. Critic, TGD-optimizer and APO requests get well-formed replies whose text
depends on a hash of the request. Replies stop at the request's max_tokens (a word as a token).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

from dlpo.engines.base import ChatRequest, Completion
from dlpo.engines.scripted import stop_at_max_tokens

_SUM = re.compile(r"What is (\d+) \+ (\d+)\?")


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def reply(request: ChatRequest) -> str:
    system, user = request.messages[0].content, request.messages[-1].content
    h = _h(system + "\n" + user + f"#{request.sample_index}")
    m = _SUM.search(user)
    if m and "<SYSTEM_PROMPT>" not in user and "My current prompt" not in user:
        total = int(m.group(1)) + int(m.group(2))
        wrong = h % 3 == 0 and "carefully" not in system or h % 7 == 0
        return f"The sum is computed.\nAnswer: {total + (1 if wrong else 0)}"
    if "IMPROVED_VARIABLE" in user:
        return f"<IMPROVED_VARIABLE>Add the numbers carefully (v{h % 97}). Give the final sum.</IMPROVED_VARIABLE>"
    if "<START>" in user:
        return f"<START>Add both numbers carefully and check the sum (v{h % 89}).<END>"
    return f"Be careful with the sums (note {h % 13})."


class ToyEngine:
    """`strong=True`: a second toy forward model that never errs (for transfer tests)."""

    def __init__(self, strong: bool = False) -> None:
        self.strong = strong

    @property
    def cache_id(self) -> str:
        return "toy:strong" if self.strong else "toy:sums"

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        out = []
        for r in requests:
            text = reply(r)
            if self.strong and text.startswith("The sum is computed."):
                m = _SUM.search(r.messages[-1].content)
                text = f"The sum is computed.\nAnswer: {int(m.group(1)) + int(m.group(2))}" if m else text
            text, tokens, finish = stop_at_max_tokens(text, r)
            prompt_tokens = sum(len(m.content.split()) for m in r.messages)
            out.append(
                Completion(text, prompt_tokens, tokens, 0.0, model=self.cache_id, finish_reason=finish)
            )
        return out

    async def aclose(self) -> None:
        return None


def engine() -> ToyEngine:
    return ToyEngine()


def strong_engine() -> ToyEngine:
    return ToyEngine(strong=True)


def write_task(path: str | Path, n: int = 24, seed: int = 0) -> Path:
    """A JSONL task file of `n` sums (for the file-task loader: input/target columns)."""
    import random

    rng = random.Random(seed)
    path = Path(path)
    lines = []
    for i in range(n):
        a, b = rng.randint(1, 50), rng.randint(1, 50)
        lines.append(json.dumps({"id": f"s{i}", "input": f"What is {a} + {b}?", "target": str(a + b)}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
