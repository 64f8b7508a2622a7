"""Strict label scorer for two-way answers: yes/no, True/False, valid/invalid (case-insensitive).

The first word of the target's pair on the last `Answer:` line is the answer, so
'Answer: No, it is not' reads as 'No' and 'Answer: the argument is invalid' as 'invalid'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlpo.tasks.base import Score
from dlpo.tasks.scoring.extract import answer_segment, short

LABEL_PAIRS: tuple[tuple[str, str], ...] = (("yes", "no"), ("true", "false"), ("valid", "invalid"))


def label_pair(target: str) -> tuple[str, str] | None:
    word = target.strip().lower()
    return next((pair for pair in LABEL_PAIRS if word in pair), None)


@dataclass(frozen=True)
class LabelScorer:
    name: str = "label"

    def check_target(self, target: str) -> str | None:
        if label_pair(target) is None:
            allowed = ", ".join("/".join(p) for p in LABEL_PAIRS)
            return f"target {target!r} is not a label (allowed: {allowed})"
        return None

    def __call__(self, output: str, target: str) -> Score:
        pair = label_pair(target)
        if pair is None:
            raise ValueError(f"label target {target!r} is not one of yes/no, true/false, valid/invalid")
        if not output.strip():
            return Score(0.0, None, "empty reply")
        segment = answer_segment(output)
        if segment is None:
            return Score(0.0, None, "no `Answer:` line")
        words = [w for w in re.findall(r"[a-z]+", segment.lower()) if w in pair]
        if not words:
            return Score(0.0, None, f"no {pair[0]}/{pair[1]} after `Answer:` ({short(segment)!r})")
        answer, gold = words[0], target.strip().lower()
        shown, expected = _styled(answer, target), target.strip()
        if answer == gold:
            return Score(1.0, shown, f"correct: answered {shown}")
        return Score(0.0, shown, f"answered {shown}, expected {expected}")


def _styled(word: str, target: str) -> str:
    """Print the answer in the target's capitalisation ('No' next to 'Yes', 'no' next to 'yes')."""
    return word.capitalize() if target.strip()[:1].isupper() else word
