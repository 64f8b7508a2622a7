"""Strict numeric scorer: the number on the last `Answer:` line must equal the target exactly.

Numbers are compared as exact fractions (never floats), so 16-digit BigGSM answers, decimals
('12.50' == '12.5') and negatives compare correctly. `$`, thousands commas, units, a trailing
period and '(...)' asides on the answer line are ignored. An answer line with several different
numbers is ambiguous and scores 0, except that in 'Answer: 6 * 3 = 18' the number after the last
'=' is the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlpo.tasks.base import Score
from dlpo.tasks.scoring.extract import (
    answer_segment,
    format_number,
    missing_marker_hint,
    numbers_in,
    parse_number,
    short,
    without_parentheticals,
)


@dataclass(frozen=True)
class NumericScorer:
    name: str = "numeric"

    def check_target(self, target: str) -> str | None:
        """None when `target` is a usable number, else what is wrong with it."""
        return None if parse_number(target) is not None else f"target {target!r} is not a number"

    def __call__(self, output: str, target: str) -> Score:
        gold = parse_number(target)
        if gold is None:
            raise ValueError(f"numeric target {target!r} is not a number")
        if not output.strip():
            return Score(0.0, None, "empty reply")
        segment = answer_segment(output)
        if segment is None:
            return Score(0.0, None, "no `Answer:` line" + missing_marker_hint(output))
        text = without_parentheticals(segment)
        if "=" in text:
            text = text.rsplit("=", 1)[1]
        values = numbers_in(text)
        if not values:
            return Score(0.0, None, f"no number after `Answer:` ({short(segment)!r})")
        distinct = list(dict.fromkeys(values))
        if len(distinct) > 1:
            listed = ", ".join(format_number(v) for v in distinct[:4])
            return Score(
                0.0, format_number(distinct[0]), f"several numbers after `Answer:` ({listed}); give one"
            )
        answer = distinct[0]
        shown = format_number(answer)
        if answer == gold:
            return Score(1.0, shown, f"correct: answered {shown}")
        return Score(0.0, shown, f"answered {shown}, expected {format_number(gold)}")
