"""`LLMJudge`: a metric for tasks with no single right answer, scored by a model against a rubric.

    task = dlpo.Task.from_records(rows, input="request", target="notes", metric=dlpo.LLMJudge(
        "The reply is polite, answers the request and is under 50 words."))

The judge sees the input, the reference (the example's target: notes or a model answer; say in
the rubric how to use it) and the reply, and answers `Score: <0-10>` and `Reason: <one sentence>`.
The score becomes value/10 and the reason becomes the Score's reason — which is what the backward
model learns from, so a rubric whose criteria the judge can name gives better feedback.

In a run the judge's calls go through the run's cache and usage ledger (role `judge`), so they are
replayed on resume, counted, and held to the budget like every other call: the session binds the
judge to a client for its engine (`bind`). Outside a run it builds its own uncached client.
A reply without a score is a metric error (`dlpo.tasks.metric`; see `on_error`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dlpo.engines.base import ChatRequest
from dlpo.tasks.base import Example, Score

JUDGE_SYSTEM = (
    "You grade replies against a rubric. Be strict and consistent. Answer with exactly two lines: "
    "'Score: <an integer from 0 to 10>' and 'Reason: <one short sentence naming what is missing or wrong>'."
)
_SCORE = re.compile(r"score\s*[:=]\s*(\d{1,2})(?:\s*/\s*10)?", re.IGNORECASE)
_REASON = re.compile(r"reason\s*[:=]\s*(.+)", re.IGNORECASE)


class JudgeReplyError(ValueError):
    """The judge's reply carried no score."""


@dataclass
class LLMJudge:
    rubric: str
    engine: str = "local:qwen2.5-1.5b"
    max_tokens: int = 120
    timeout: float = 900.0  # seconds per judgement (the metric timeout of a judged task)
    name: str = "judge"
    _client: Any = field(default=None, init=False, repr=False, compare=False)

    def bind(self, client: Any) -> None:
        """Use `client` (an `LLMClient` with the run's cache and ledger) for the judgements."""
        self._client = client

    def request(self, output: str, example: Example) -> ChatRequest:
        reference = f"Reference (notes or a model answer):\n{example.target}\n\n" if example.target else ""
        user = f"Rubric:\n{self.rubric}\n\nInput:\n{example.input}\n\n{reference}Reply to grade:\n{output.strip() or '(empty)'}"
        return ChatRequest.chat(JUDGE_SYSTEM, user, temperature=0.0, max_tokens=self.max_tokens, seed=0)

    async def __call__(self, output: str, example: Example) -> Score:
        client = self._client
        if client is None:
            from dlpo.engines.client import LLMClient
            from dlpo.engines.spec import build_engine

            client = self._client = LLMClient(build_engine(self.engine, role="backward"))
        [reply] = await client.complete([self.request(output, example)], role="judge")
        return parse_judgement(reply.text)


def parse_judgement(text: str) -> Score:
    """`Score: N` (0-10) and `Reason: ...` -> Score(N/10, reason). Raises `JudgeReplyError`."""
    found = _SCORE.search(text)
    if found is None:
        shown = " ".join(text.split())[:120]
        raise JudgeReplyError(f"the judge's reply has no 'Score: N' line ({shown!r})")
    value = min(int(found.group(1)), 10) / 10
    reason = _REASON.search(text)
    why = " ".join(reason.group(1).split())[:240] if reason else "the judge gave no reason"
    return Score(value, f"{value * 10:g}/10", f"judge {value * 10:g}/10: {why}")
