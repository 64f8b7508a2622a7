"""Strict exact-match scorer for free-text answers (BBH word_sorting, dyck_languages, user tasks).

The text after the last `Answer:` marker (to the end of its line) is compared with the target
after collapsing whitespace and removing wrapping quotes/backticks and a trailing period.
`ignore_spaces=True` removes all whitespace first (dyck: ')]}' equals ') ] }').
`ignore_case=True` compares case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlpo.tasks.base import Score
from dlpo.tasks.scoring.extract import answer_segment, missing_marker_hint, short


def normalize_text(text: str, *, ignore_spaces: bool = False, ignore_case: bool = False) -> str:
    text = " ".join(text.split())
    text = text.strip().strip("\"'`").strip()
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip()
    if ignore_spaces:
        text = "".join(text.split())
    return text.lower() if ignore_case else text


@dataclass(frozen=True)
class ExactScorer:
    name: str = "exact"
    ignore_spaces: bool = False
    ignore_case: bool = False

    def check_target(self, target: str) -> str | None:
        return None if normalize_text(target) else "empty target"

    def __call__(self, output: str, target: str) -> Score:
        if not output.strip():
            return Score(0.0, None, "empty reply")
        segment = answer_segment(output)
        if segment is None:
            return Score(0.0, None, "no `Answer:` line" + missing_marker_hint(output))
        opts = {"ignore_spaces": self.ignore_spaces, "ignore_case": self.ignore_case}
        answer = normalize_text(segment, **opts)
        if not answer:
            return Score(0.0, None, "nothing after `Answer:`")
        if answer == normalize_text(target, **opts):
            return Score(1.0, segment, f"correct: answered {short(segment)!r}")
        return Score(0.0, segment, f"answered {short(segment)!r}, expected {short(target)!r}")
