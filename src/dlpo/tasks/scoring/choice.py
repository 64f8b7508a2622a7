"""Strict multiple-choice scorer: the option letter on the last `Answer:` line.

Targets are '(B)'-style letters. Three upstream BBH targets are option *texts* instead
(movie_recommendation 'Monsters, Inc'; ruin_names 'dearth, wind, & fire', 'rita, sue and bob poo'),
because the source split their options at commas; for those the answer text (a leading '(X)' removed)
must contain the target text, compared case-insensitively without punctuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlpo.tasks.base import Score
from dlpo.tasks.scoring.extract import answer_segment, missing_marker_hint, short

_TARGET_LETTER = re.compile(r"^\(([A-Z])\)$")
_PAREN_LETTER = re.compile(r"\(([A-Z])\)")
_BARE_LETTER = re.compile(r"^(?:option\s+)?([A-Z])(?=$|[).:,\s])", re.IGNORECASE)
_LEADING_OPTION = re.compile(r"^\s*\(?[A-Z]\)\s*")


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def option_letters(segment: str) -> list[str]:
    """Distinct option letters named on an answer line: '(B)', 'B', 'B) blue', 'Option B'."""
    letters = list(dict.fromkeys(_PAREN_LETTER.findall(segment)))
    if letters:
        return letters
    bare = _BARE_LETTER.match(segment.strip())
    return [bare.group(1).upper()] if bare else []


@dataclass(frozen=True)
class ChoiceScorer:
    name: str = "choice"

    def check_target(self, target: str) -> str | None:
        return None if target.strip() else "empty target"

    def __call__(self, output: str, target: str) -> Score:
        if not output.strip():
            return Score(0.0, None, "empty reply")
        segment = answer_segment(output)
        if segment is None:
            return Score(0.0, None, "no `Answer:` line" + missing_marker_hint(output))
        gold = _TARGET_LETTER.match(target.strip())
        if gold is None:
            return self._score_text(segment, target)
        letters = option_letters(segment)
        if not letters:
            return Score(0.0, None, f"no option letter after `Answer:` ({short(segment)!r})")
        if len(letters) > 1:
            listed = ", ".join(f"({x})" for x in letters)
            return Score(0.0, f"({letters[0]})", f"several options after `Answer:` ({listed}); choose one")
        chosen = f"({letters[0]})"
        if letters[0] == gold.group(1):
            return Score(1.0, chosen, f"correct: chose {chosen}")
        return Score(0.0, chosen, f"chose {chosen}, expected {target.strip()}")

    @staticmethod
    def _score_text(segment: str, target: str) -> Score:
        answer = _LEADING_OPTION.sub("", segment)
        if _words(target) and _words(target) in _words(answer):
            return Score(1.0, segment, f"correct: answered {short(segment)!r}")
        return Score(0.0, segment, f"answered {short(segment)!r}, expected the option {target.strip()!r}")
