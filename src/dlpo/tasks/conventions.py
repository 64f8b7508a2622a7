"""Task-level facts: what every training target shares, drawn once per run from the train split.

A prompt that works must state the task's conventions: the label set and its exact spellings when
the targets are a few distinct strings, or the targets' format (bare integers or decimals, casing,
length). These facts are *task-level* (true of the whole train split, never of one example), so
the optimizer may see them and a candidate prompt may state them; a specific example's question or
answer is per-example content and may not (docs/feedback.md).

The answer kind decides which facts and fix hints apply (never arithmetic hints on a label task):

* `number`  numeric scorers, or every target parses as one number (e.g. an exact-match file task);
* `choice`  option letters such as '(B)' (the choice scorer);
* `math`    `\\boxed{}` answers (MATH scorers);
* `label`   a few distinct strings (the label scorer, or at most `MAX_LABELS` distinct targets that
            repeat: no more distinct targets than half the train split);
* `text`    anything else (free text).

Only the train split is read (never val or test), so nothing held out reaches the optimizer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dlpo.tasks.base import Example, Task
from dlpo.tasks.scoring.extract import parse_number
from dlpo.tasks.scoring.label import label_pair

AnswerKind = Literal["number", "label", "choice", "text", "math"]
KINDS: tuple[str, ...] = ("number", "label", "choice", "text", "math")
MAX_LABELS = 12
_CHOICE = re.compile(r"^\([A-Z]\)$")
_NUMERIC_SCORERS = ("numeric", "reference:gsm8k", "reference:mgsm")
_MATH_SCORERS = ("math", "reference:math")
CONVENTIONS_HEADER = "Task conventions (true of every training answer; a good prompt states them):"
# Scorers that read the whole reply as the answer (no `Answer:` line to look for).
WHOLE_REPLY_SCORERS = ("whole",)
LABEL_LINE_START = "The answer is exactly one of these labels"


@dataclass(frozen=True)
class TaskFacts:
    """The answer kind, the label set (label tasks only) and the convention lines, one instruction
    each, addressed to the model so the optimizer may copy them into the prompt."""

    kind: AnswerKind = "text"
    labels: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    # The scorer reads the whole reply as the answer (no `Answer:` line): hints say "reply with ...".
    whole_reply: bool = False

    def render(self) -> str:
        """The block stated once per step in the optimizer's feedback ('' when there are none)."""
        if not self.lines:
            return ""
        return CONVENTIONS_HEADER + "\n" + "\n".join(f"- {line}" for line in self.lines)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "labels": list(self.labels), "lines": list(self.lines)}
        if self.whole_reply:
            out["whole_reply"] = True
        return out

    def unstated(self, prompt: str) -> list[str]:
        """The convention lines `prompt` does not state yet: the label-set line when a label is
        missing from the prompt, any other line when the prompt lacks its words."""
        low = " ".join(prompt.split()).casefold()
        out = []
        for line in self.lines:
            if self.labels and line.startswith(LABEL_LINE_START):
                if not all(label.casefold() in low for label in self.labels):
                    out.append(line)
            elif " ".join(line.split()).casefold().rstrip(".") not in low:
                out.append(line)
        return out


def _scorer_name(task: Task) -> str:
    return str(getattr(task.scorer, "name", "") or "")


def _label_set(targets: Sequence[str], scorer: str) -> tuple[str, ...]:
    """The distinct targets in order of first use; for the label scorer, the whole pair of each
    target ('yes' -> yes, no) spelled like the targets."""
    distinct = list(dict.fromkeys(t.strip() for t in targets if t.strip()))
    if scorer == "label":
        out: list[str] = []
        for t in distinct:
            pair = label_pair(t) or (t.lower(),)
            styled = [w.capitalize() if t[:1].isupper() else w for w in pair]
            out.extend(w for w in styled if w not in out)
        return tuple(out)
    return tuple(distinct)


def answer_kind(task: Task, targets: Sequence[str]) -> AnswerKind:
    """The kind of answer the task's scorer reads, from its name and the training targets."""
    scorer = _scorer_name(task)
    targets = [t.strip() for t in targets if t.strip()]
    if scorer in _MATH_SCORERS or task.answer_type == "math":
        return "math"
    if scorer in _NUMERIC_SCORERS or task.answer_type == "numeric":
        return "number"
    if scorer == "choice" or task.answer_type == "choice":
        return "choice"
    if scorer == "label" or task.answer_type == "label":
        return "label"
    if targets and all(parse_number(t) is not None for t in targets):
        return "number"
    if targets and all(_CHOICE.match(t) for t in targets):
        return "choice"
    distinct = set(targets)
    if targets and len(distinct) <= MAX_LABELS and len(distinct) <= len(targets) / 2:
        return "label"
    return "text"


def _number_lines(targets: Sequence[str]) -> list[str]:
    values = [t.strip() for t in targets]
    decimals = any("." in v for v in values)
    negatives = any(v.startswith(("-", "−")) for v in values)
    grouped = any("," in v for v in values)
    kind = "a number, possibly with decimals" if decimals else "a whole number"
    lines = [f"The answer is always {kind}: write it as bare digits, with no units, currency signs or words."]
    if negatives:
        lines.append("Some answers are negative: keep the minus sign.")
    if not grouped and any(len(v.lstrip("-")) > 4 for v in values):
        lines.append("Write large numbers without thousands separators.")
    return lines


def _casing(targets: Sequence[str]) -> str | None:
    letters = [t for t in targets if re.search(r"[A-Za-z]", t)]
    if not letters:
        return None
    if all(t == t.lower() for t in letters):
        return "lowercase"
    if all(t == t.upper() for t in letters):
        return "uppercase"
    if all(t[:1].isupper() for t in letters):
        return "capitalized"
    return None


def _length(targets: Sequence[str]) -> str:
    counts = [len(t.split()) for t in targets]
    low, high = min(counts), max(counts)
    if high == 1:
        return "a single word"
    if high <= 5:
        return f"{low} to {high} words" if low != high else f"{low} words"
    return "a phrase or sentence"


def _label_lines(labels: Sequence[str]) -> list[str]:
    listed = ", ".join(f"'{label}'" for label in labels)
    lines = [
        f"The answer is exactly one of these labels, spelled exactly as written: {listed}.",
        "Write the label only, with no other words.",
    ]
    casing = _casing(labels)
    if casing is not None:
        lines.append(f"Labels are written in {casing}.")
    return lines


def _text_lines(targets: Sequence[str]) -> list[str]:
    lines = [f"The answer is {_length(targets)}, with no explanation on the answer line."]
    casing = _casing(targets)
    if casing is not None:
        lines.append(f"Answers are written in {casing}.")
    return lines


def task_facts(task: Task, train: Sequence[Example] | None = None) -> TaskFacts:
    """The task-level facts of `task`, computed from its train split (or the given `train`)."""
    examples = task.train if train is None else train
    targets = [ex.target.strip() for ex in examples if ex.target.strip()]
    kind = answer_kind(task, targets)
    if not targets:
        return TaskFacts(kind=kind)
    whole = _scorer_name(task) in WHOLE_REPLY_SCORERS
    if kind == "number":
        return TaskFacts(kind, (), tuple(_number_lines(targets)), whole)
    if kind == "choice":
        lines = ("The answer is one option letter in parentheses, such as (A), and nothing else.",)
        return TaskFacts(kind, (), lines, whole)
    if kind == "math":
        return TaskFacts(
            kind, (), ("Put only the final answer inside \\boxed{}, with no words in the box.",), whole
        )
    if kind == "label":
        labels = _label_set(targets, _scorer_name(task))
        return TaskFacts(kind, labels, tuple(_label_lines(labels)), whole)
    return TaskFacts(kind, (), tuple(_text_lines(targets)), whole)
