"""The reference code's lenient scorers (paper.md §9.1), so accuracies can be compared with the
paper's. They are *not* the default: they accept a correct number anywhere near the end (or at the
very start) of a reply, drop minus signs and decimals, and ignore the answer format.

- `reference:gsm8k` — the rule the reference uses for GSM8K and the numeric BBH tasks: correct if
  the last or the first digit run equals the gold, or the DSPy parse does.
- `reference:mgsm` — the rule for MGSM and BigGSM: the DSPy parse, else the last digit run, else
  any of the last 4 digit runs.
- `reference:math` — every `\\boxed{}`, spaces and braces removed; the last, second-to-last or
  first box must equal the gold (also stripped). No LaTeX or symbolic equivalence.

The DSPy parse takes the last whitespace token that contains a digit, cuts it at the first '.',
keeps only its digits and reads an int (0 when that fails). Neither digit runs nor the DSPy parse
carry a sign, so the reference marks every negative gold wrong; we reproduce that, as the paper's
numbers include it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlpo.tasks.base import Score
from dlpo.tasks.scoring.extract import boxed_contents, short

_RUN = re.compile(r"\d+")


def dspy_integer(text: str) -> int:
    tokens = [t for t in text.split() if any(c.isdigit() for c in t)]
    if not tokens:
        return 0
    digits = "".join(c for c in tokens[-1].split(".")[0] if c.isdigit())
    try:
        return int(digits)
    except ValueError:
        return 0


def _gold_int(target: str) -> int | None:
    try:
        return int(target.strip().replace(",", ""))
    except ValueError:
        return None


def _runs(text: str) -> list[int]:
    out = []
    for run in _RUN.findall(text):
        try:
            out.append(int(run))
        except ValueError:  # a run of digits int() cannot read (e.g. superscripts)
            continue
    return out


@dataclass(frozen=True)
class ReferenceNumericScorer:
    """`variant` 'gsm8k' (last or first run) or 'mgsm' (last run or any of the last 4)."""

    variant: str = "gsm8k"

    @property
    def name(self) -> str:
        return f"reference:{self.variant}"

    def check_target(self, target: str) -> str | None:
        return None if _gold_int(target) is not None else f"target {target!r} is not an integer"

    def __call__(self, output: str, target: str) -> Score:
        gold = _gold_int(target)
        runs = _runs(output)
        parsed = dspy_integer(output)
        shown = str(runs[-1]) if runs else None
        if gold is not None and parsed == gold:
            return Score(1.0, str(parsed), f"lenient match: last number-like token reads {parsed}")
        if gold is not None and runs:
            if runs[-1] == gold:
                return Score(1.0, shown, f"lenient match: last number {gold}")
            if self.variant == "gsm8k" and runs[0] == gold:
                return Score(1.0, str(runs[0]), f"lenient match: first number {gold}")
            if self.variant == "mgsm" and gold in runs[-4:]:
                return Score(1.0, str(gold), f"lenient match: {gold} among the last 4 numbers")
        if not runs:
            return Score(0.0, None, "no number in the reply")
        return Score(0.0, shown, f"answered {shown}, expected {target.strip()} (lenient rule)")


def _strip(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and ch not in "{}")


@dataclass(frozen=True)
class ReferenceMathScorer:
    name: str = "reference:math"

    def check_target(self, target: str) -> str | None:
        return None if _strip(target) else "empty target"

    def __call__(self, output: str, target: str) -> Score:
        boxes = [_strip(b) for b in boxed_contents(output)]
        if not boxes:
            return Score(0.0, None, "no \\boxed{} answer")
        gold = _strip(target)
        tried = [boxes[-1]] + ([boxes[-2]] if len(boxes) > 1 else []) + [boxes[0]]
        if gold in tried:
            return Score(1.0, gold, f"lenient match: boxed {short(gold, 40)}")
        return Score(
            0.0, boxes[-1], f"answered {short(boxes[-1], 40)}, expected {short(gold, 40)} (lenient rule)"
        )
