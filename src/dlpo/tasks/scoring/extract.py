"""Pulling the final answer out of a model's reply.

Strict scorers read only what follows the *last* `Answer:` marker (the format the answer
instruction asks for). Markdown decorations (`**Answer:**`, `Final answer:`), a full-width colon
and an answer put on the next line are accepted; anything else counts as "no `Answer:` line".
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

# "Answer:", "**Answer:**", "Final Answer :", "answer：" (full-width colon)
_MARKER = re.compile(r"answer[\s*_`]*[:：]", re.IGNORECASE)
_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
# A number: optional sign directly attached, optional $, digits with thousands commas or plain,
# optional decimals, optional "/den" fraction. Not inside a word or another number.
_NUMBER = re.compile(
    r"(?<![\w.,])(?P<sign>[-−+]?)\$?(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?P<frac>\.\d+)?"
    r"(?:\s*/\s*(?P<den>\d+))?"
)
_PARENS = re.compile(r"\([^()]*\)")


def to_ascii_digits(text: str) -> str:
    """Map every Unicode decimal digit (Bengali, Thai, full-width, ...) to ASCII 0-9, and the
    Unicode minus sign to '-', so MGSM replies in any script parse the same way."""
    out = []
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            value = unicodedata.decimal(ch, None)
            out.append(str(value) if value is not None else ch)
        elif ch == "−":
            out.append("-")
        else:
            out.append(ch)
    return "".join(out)


def answer_segment(output: str) -> str | None:
    """The text after the last `Answer:` marker up to the end of its line; when that is empty,
    the next non-empty line. None when the output has no marker."""
    matches = list(_MARKER.finditer(output))
    if not matches:
        return None
    rest = output[matches[-1].end() :]
    lines = rest.split("\n")
    segment = lines[0]
    if not clean(segment):
        segment = next((line for line in lines[1:] if clean(line)), "")
    return clean(segment)


def clean(text: str) -> str:
    """Strip markdown emphasis, backticks, math `$…$` wrappers and surrounding whitespace."""
    text = text.strip().strip("*_`").strip()
    if len(text) >= 2 and text.startswith("$") and text.endswith("$") and text.count("$") == 2:
        text = text[1:-1].strip()
    return text


def short(text: str, limit: int = 60) -> str:
    """A one-line excerpt for reasons."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def boxed_contents(text: str) -> list[str]:
    """Contents of every brace-matched `\\boxed{...}` (and `\\fbox{...}`), in order. An unclosed
    box is ignored."""
    found = []
    for match in _BOX.finditer(text):
        depth, i = 1, match.end()
        while i < len(text) and depth:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
            i += 1
        if depth == 0:
            found.append(text[match.end() : i - 1])
    return found


def numbers_in(text: str) -> list[Fraction]:
    """Every number in `text`, parsed exactly (no floats): '1,234' -> 1234, '-3.50' -> -7/2,
    '3/4' -> 3/4, '$18.' -> 18."""
    text = to_ascii_digits(text)
    values = []
    for m in _NUMBER.finditer(text):
        value = Fraction(m["int"].replace(",", "") + (m["frac"] or ""))
        if m["den"]:
            den = int(m["den"])
            if den == 0:
                continue
            value /= den
        if m["sign"] == "-":
            value = -value
        values.append(value)
    return values


def parse_number(text: str) -> Fraction | None:
    """A target such as '72', '-5', '1,234' or '12.5' as an exact Fraction; None if not a number."""
    values = numbers_in(text.strip())
    return values[0] if len(values) == 1 else None


def format_number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    if 10**12 % value.denominator == 0:  # a terminating decimal: print it as one
        return f"{float(value):g}" if abs(value) < 10**15 else str(value)
    return f"{value.numerator}/{value.denominator}"


def without_parentheticals(text: str) -> str:
    """Drop '(...)' asides: 'Answer: 150 (3 boxes of 50)' -> 'Answer: 150 '."""
    previous = None
    while previous != text:
        previous, text = text, _PARENS.sub(" ", text)
    return text


def missing_marker_hint(output: str) -> str:
    """What the reply ended with instead of an `Answer:` line, to make the reason actionable."""
    boxes = boxed_contents(output)
    if boxes:
        return f" (the reply ends with \\boxed{{{short(boxes[-1], 30)}}} instead)"
    numbers = numbers_in(output)
    if numbers:
        return f" (the last number in the reply is {format_number(numbers[-1])})"
    return ""
