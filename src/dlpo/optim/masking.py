"""Masking of per-example values in what the optimizer sees (docs/feedback.md).

The backward model that critiques one example sees that example whole. What a prompt-writing call
sees (the update request's feedback, APO's edit request) must not pair an example with its answer:
a batch's targets and extracted answers are masked there, numbers as `N` and other values as `X`
(an option letter '(C)' as '(X)'), for every answer kind. The one exception is the task's label
set: it is task-level (`dlpo.tasks.conventions`), so a suggested instruction may name a label,
while a scorer reason or a critique that pairs an example with a label is still masked.

Short, common label words ('yes', 'no', 'true', 'false') are masked only where they are quoted or
follow an answer word ('expected no', "answered 'yes'"), so ordinary prose ('no units') survives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dlpo.evaluation import ExampleResult

NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
_CHOICE = re.compile(r"^\(([A-Z])\)$")
_COMMON = frozenset(["yes", "no", "true", "false", "none", "a", "an", "the", "it", "is", "not", "and", "or"])
_ANSWER_WORD = (
    r"(?:expected|answered|answer|answers|label|labelled|labeled|prediction|predicted|chose|gave|said)"
)
_QUOTES = "'\"`“”‘’"


def mask_numbers(text: str) -> str:
    """'answered 22, expected 29' -> 'answered N, expected N' (every number)."""
    return NUMBER.sub("N", text)


@dataclass(frozen=True)
class BatchValues:
    """The per-example values of a batch: `numbers` (from questions, targets and answers),
    `strings` (non-numeric targets and answers, longest first) and `labels` (members of the task's
    label set, casefolded: allowed in suggested instructions, masked in reasons and critiques)."""

    numbers: frozenset[str] = frozenset()
    strings: tuple[str, ...] = ()
    labels: frozenset[str] = frozenset()


def _is_number(text: str) -> bool:
    return bool(NUMBER.fullmatch(text.replace("$", "").replace("-", "", 1).strip()))


def batch_values(items: Sequence[ExampleResult], labels: Iterable[str] = ()) -> BatchValues:
    """The values to mask for a batch; `labels` is the task's label set (may be empty)."""
    numbers = {n for i in items for t in (i.example.input, i.example.target) for n in NUMBER.findall(t)}
    strings: set[str] = set()
    for item in items:
        for value in (item.example.target, item.score.answer or ""):
            value = " ".join(value.split()).strip().strip(_QUOTES).rstrip(".").strip()
            if not value:
                continue
            numbers.update(NUMBER.findall(value))
            if not _is_number(value):
                strings.add(value)
    return BatchValues(
        numbers=frozenset(numbers),
        strings=tuple(sorted(strings, key=lambda s: (-len(s), s))),
        labels=frozenset(label.casefold() for label in labels),
    )


def _patterns(value: str) -> list[re.Pattern[str]]:
    """Where `value` occurs as a value; each pattern's group `pre` is kept, the rest is masked."""
    choice = _CHOICE.match(value)
    if choice:
        letter = choice.group(1)
        return [
            re.compile(rf"(?P<pre>)\({letter}\)"),
            re.compile(rf"(?P<pre>\b(?:option|choice|answer)\s+){letter}\b", re.IGNORECASE),
        ]
    body = r"\s+".join(re.escape(w) for w in value.split())
    if value.casefold() in _COMMON or len(value) <= 2:
        return [
            re.compile(rf"(?P<pre>[{_QUOTES}]){body}(?=[{_QUOTES}])", re.IGNORECASE),
            re.compile(rf"(?P<pre>\b{_ANSWER_WORD}:?\s+){body}\b", re.IGNORECASE),
        ]
    return [re.compile(rf"(?P<pre>)(?<![\w]){body}(?![\w])", re.IGNORECASE)]


def _sub(text: str, value: str) -> str:
    placeholder = "(X)" if _CHOICE.match(value) else "X"
    for pattern in _patterns(value):
        text = pattern.sub(lambda m: m.group("pre") + placeholder, text)
    return text


def _found(text: str, value: str) -> bool:
    return any(p.search(text) for p in _patterns(value))


def mask_values(text: str, values: BatchValues, *, labels: bool = True, numbers: bool = True) -> str:
    """`text` with the batch's values masked: strings as X ('(X)' for option letters), the batch's
    numbers as N. `labels=False` leaves label-set members alone (for suggested instructions)."""
    for value in values.strings:
        if not labels and value.casefold() in values.labels:
            continue
        text = _sub(text, value)
    if numbers and values.numbers:
        text = NUMBER.sub(lambda m: "N" if m.group(0) in values.numbers else m.group(0), text)
    return text


def names_value(line: str, values: BatchValues) -> bool:
    """True when a suggested instruction names a per-example value: one of the batch's numbers, or a
    target/answer that is not a member of the task's label set."""
    if set(NUMBER.findall(line)) & values.numbers:
        return True
    return mask_values(line, values, labels=False, numbers=False) != line


def leaked_values(candidate: str, current: str, values: BatchValues) -> list[str]:
    """Per-example values a candidate prompt states that the current prompt did not: batch numbers of
    two or more digits and non-label targets/answers of three or more characters (shorter ones occur
    in ordinary instructions)."""
    out = [
        n
        for n in sorted(values.numbers)
        if len(n) >= 2
        and re.search(rf"(?<![\w.]){re.escape(n)}(?![\w]|\.\d)", candidate)
        and not re.search(rf"(?<![\w.]){re.escape(n)}(?![\w]|\.\d)", current)
    ]
    for value in values.strings:
        if value.casefold() in values.labels or len(value) < 3 or value.casefold() in _COMMON:
            continue
        if _found(candidate, value) and not _found(current, value):
            out.append(value)
    return out
