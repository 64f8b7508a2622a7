"""Whole-reply exact match: the reply itself must be the answer, as a program parsing it would need.

Many real pipelines read a model's reply as is (a label routed to a queue, a value written to a
column): there is no `Answer:` line to look for, and any extra word is an error. The reply is
compared with the target after stripping surrounding whitespace, wrapping quotes/backticks and one
trailing period; case and inner spelling must match exactly. The reason says which convention was
broken (extra words around the right answer, wrong case, wrong spelling), because that is what the
optimizer must learn to state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlpo.tasks.base import Score
from dlpo.tasks.scoring.extract import short


def _bare(text: str) -> str:
    text = " ".join(text.split()).strip().strip("\"'`*").strip()
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip()
    return text


@dataclass(frozen=True)
class WholeReplyScorer:
    name: str = "whole"

    def check_target(self, target: str) -> str | None:
        return None if _bare(target) else "empty target"

    def __call__(self, output: str, target: str) -> Score:
        reply, gold = _bare(output), _bare(target)
        if not reply:
            return Score(0.0, None, "empty reply")
        if reply == gold:
            return Score(1.0, reply, f"correct: replied {short(reply)!r}")
        if reply.lower() == gold.lower():
            return Score(
                0.0, reply, f"replied {short(reply)!r}: right answer, wrong case (expected {gold!r})"
            )
        if re.search(rf"(?<![\w-]){re.escape(gold)}(?![\w-])", reply, re.IGNORECASE):
            return Score(
                0.0, reply, f"replied {short(reply)!r}: contains the expected {gold!r} but also other words"
            )
        return Score(0.0, reply, f"replied {short(reply)!r}, expected {gold!r}")
