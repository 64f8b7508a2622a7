"""Word-level prompt diffs as escaped HTML (`<del>` for removed words, `<ins>` for added ones).

Whitespace runs are kept as tokens so the rendered diff keeps the prompt's line breaks; only the
words are compared (a re-wrapped line is not a change).
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

from dlpo.report.load import RunData

_TOKEN = re.compile(r"\s+|[^\s]+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff_html(old: str, new: str) -> str:
    """HTML of `new` with words removed from `old` in `<del>` and words added in `<ins>`; every piece
    of prompt text is HTML-escaped (prompts are model output and may contain markup)."""
    a, b = _tokens(old), _tokens(new)
    key_a = [t if t.strip() else " " for t in a]
    key_b = [t if t.strip() else " " for t in b]
    out: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, key_a, key_b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(html.escape("".join(b[j1:j2])))
            continue
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        if removed.strip():
            out.append(f"<del>{html.escape(removed)}</del>")
        elif removed and not added:
            out.append(html.escape(removed))
        if added.strip():
            out.append(f"<ins>{html.escape(added)}</ins>")
        elif added:
            out.append(html.escape(added))
    return "".join(out)


def word_change_counts(old: str, new: str) -> tuple[int, int]:
    """(words removed, words added) between two prompts."""
    a, b = old.split(), new.split()
    removed = added = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return removed, added


@dataclass(frozen=True)
class Change:
    """The prompt changing at an accepted step: the diff from the previous prompt, the sentence edits
    the optimizer measured (added/deleted/modified/total vs the budget) and word counts."""

    step: int
    diff_html: str
    edits: dict[str, int]
    edits_budget: int | None
    words_removed: int
    words_added: int
    words: int
    val: float | None
    delta: float | None


def prompt_evolution(run: RunData) -> list[Change]:
    """One `Change` per step whose prompt differs from the prompt before it."""
    changes, prev = [], run.start_prompt
    for r in run.steps:
        if r.prompt and r.prompt != prev:
            removed, added = word_change_counts(prev, r.prompt)
            changes.append(
                Change(
                    step=r.step,
                    diff_html=word_diff_html(prev, r.prompt),
                    edits=r.edits,
                    edits_budget=r.edits_budget,
                    words_removed=removed,
                    words_added=added,
                    words=len(r.prompt.split()),
                    val=r.val,
                    delta=r.delta,
                )
            )
            prev = r.prompt
    return changes
