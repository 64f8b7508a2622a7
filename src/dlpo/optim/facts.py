"""The deterministic half of the textual gradient: scorer facts, observations, fix hints, cleaning.

Measured on the local 1.5B critic (H7 probe): asked to diagnose a wrong reply it hallucinates or
echoes the prompt under review ("Make sure the answer is clear and concise"), even when the reply
plainly wrote `Answer: 22` first and reasoned afterwards. What the scorer and the reply's layout
show is therefore computed here, without an LLM:

* `observations`: what the reply's structure shows (answer line before the working, a bare answer
  with no working, the expected answer reached in the working but not on the answer line, extra
  words around the answer, a long reply that stops mid-sentence before any answer line);
* `fix_hints`: one generic instruction per observed failure kind, worded for the task's answer kind
  (`dlpo.tasks.conventions`): arithmetic hints ("show your working") only for numbers and math,
  "the label only" for labels. They say how to fix a *format/structure* failure, never anything
  about a question's content;
* `batch_facts`: the batch's verdict with the scorer's reasons, per-example values masked;
* `clean_suggestions`: the usable instruction lines of a critic reply (no talk about the prompt or
  model, no per-example values of the batch, no line that only repeats what the prompt already says).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from dlpo.evaluation import ExampleResult
from dlpo.optim.hint_texts import HINTS, KIND_HINTS, OBSERVED, WHOLE_REPLY_HINTS, WHOLE_REPLY_OBSERVED
from dlpo.optim.masking import NUMBER, BatchValues, batch_values, mask_numbers, mask_values, names_value
from dlpo.tasks.conventions import AnswerKind, TaskFacts
from dlpo.tasks.scoring.extract import parse_number

__all__ = [
    "HINTS",
    "KIND_HINTS",
    "OBSERVED",
    "WHOLE_REPLY_HINTS",
    "WHOLE_REPLY_OBSERVED",
    "mask_numbers",
]

ALL_CORRECT = (
    "All {n} answers were correct and in the required format. Keep every instruction of the prompt; only "
    "make it clearer or more robust."
)
MAX_SUGGESTIONS = 4
CUT_OFF_WORDS = 60  # a reply this long that ends mid-sentence without an answer line was cut off

# Scorer-reason prefixes that name a failure kind (matched in this order).
_REASON_KEYS = (
    "no `Answer:` line",
    "several numbers after `Answer:`",
    "no number after `Answer:`",
    "several options after `Answer:`",
    "no option letter after `Answer:`",
    "nothing after `Answer:`",
    "no \\boxed{} answer",
)
_NO_LABEL = re.compile(r"^no \S+/\S+ after `Answer:`")

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.*\S)\s*$")
_MARKER = re.compile(r"answer[\s*_`]*[:：]", re.IGNORECASE)
_RESULT = re.compile(r"=\s*\$?\s*(-?\d+(?:[.,]\d+)*)")
_CURRENCY_OR_WORD = re.compile(r"[A-Za-z$€£%]")
_ASK_UNITS = re.compile(
    r"\b(?:include|add|state|give|write|show|mention|specify|with)\b[^.]*\bunits?\b", re.IGNORECASE
)
_NO_UNITS = re.compile(r"\b(?:no|not|without|omit|drop|never|leave out)\b[^.]*\bunits?\b", re.IGNORECASE)
# Words that qualify what a critic asks the prompt writer to add ("provide clear instructions").
_ASKED_FOR = r"(?:(?:a|an|the|clear|clearer|more|specific|detailed|explicit|better|precise|some)\s+)*"
# A critic line about the prompt, the model or the batch rather than an instruction to the answerer;
# also a request to the prompt writer to add text ("Provide clear instructions on how to count the
# fruits": seen from the 1.5B critic on BBH object counting, then copied into the prompt, where it
# asks the answering model to write instructions instead of answering).
_META = re.compile(
    r"\b(?:the (?:system )?prompt|the model|the scorer|expected answer|the (?:critique|feedback)|this question"
    r"|the (?:reply|response)|example \d"
    r"|(?:add|include|insert|provide|give|offer|write)\s+"
    + _ASKED_FOR
    + r"(?:lines?|sentences?|instructions?|guidance|guidelines))\b",
    re.IGNORECASE,
)
_FILLER = frozenset(
    [
        "make",
        "sure",
        "ensure",
        "always",
        "never",
        "please",
        "provide",
        "include",
        "give",
        "keep",
        "avoid",
        "that",
        "this",
        "with",
        "your",
        "from",
        "into",
        "each",
        "every",
        "when",
        "then",
        "than",
        "will",
        "should",
        "must",
        "also",
        "very",
        "more",
        "most",
        "have",
        "there",
        "their",
        "they",
        "them",
        "what",
        "which",
    ]
)


def _facts_of(item: ExampleResult, facts: TaskFacts | None) -> TaskFacts:
    if facts is not None:
        return facts
    target = item.example.target.strip()
    return TaskFacts(kind="number" if parse_number(target) is not None else "text")


def _working(text: str) -> str:
    """The reply without its last answer line (what the model wrote as working)."""
    markers = list(_MARKER.finditer(text))
    if not markers:
        return text
    m = markers[-1]
    line_start = text.rfind("\n", 0, m.start()) + 1
    line_end = text.find("\n", m.end())
    return text[:line_start] + ("" if line_end < 0 else text[line_end:])


def _reached_number(text: str, target: str) -> bool:
    """The expected number was reached in the working: the working's last '= result' is the target,
    or a target of two or more digits stands as a whole number in the last half of the working
    (a short target such as '3' occurs in working by chance: '3 apples')."""
    gold = parse_number(target)
    working = _working(text)
    results = _RESULT.findall(working)
    if results and gold is not None and parse_number(results[-1]) == gold:
        return True
    digits = re.sub(r"\D", "", target)
    if len(digits) < 2:
        return False
    words = working.split()
    last = " ".join(words[-max(12, len(words) // 2) :])
    return bool(re.search(rf"(?<![\w.,]){re.escape(target)}(?![\w]|[.,]\d)", last))


def _reached_text(text: str, target: str) -> bool:
    if len(target.split()) < 2 and len(target) < 6:
        return False
    return bool(re.search(rf"(?<![\w]){re.escape(target)}(?![\w])", _working(text), re.IGNORECASE))


def _extra_words(answer: str, target: str, facts: TaskFacts) -> bool:
    """The answer line holds the answer plus other words ('12 cups', 'The category is billing')."""
    answer = " ".join(answer.split()).strip().rstrip(".")
    if not answer or answer.casefold() == target.casefold():
        return False
    if facts.kind == "number":
        return bool(NUMBER.search(answer)) and bool(_CURRENCY_OR_WORD.search(answer))
    if facts.kind == "label":
        labels = {label.casefold() for label in facts.labels}
        if answer.casefold() in labels:
            return False
        longest = max((len(label.split()) for label in facts.labels), default=1)
        return len(answer.split()) > longest
    if facts.kind == "text":
        return bool(re.search(rf"(?<![\w]){re.escape(target)}(?![\w])", answer, re.IGNORECASE))
    return False


def observation_keys(item: ExampleResult, facts: TaskFacts | None = None) -> list[str]:
    """Keys of `OBSERVED` that hold for a reply (meant for wrong replies), for the task's answer
    kind (`facts`; inferred from the target when None: a number or text)."""
    facts = _facts_of(item, facts)
    if facts.whole_reply:
        return _whole_reply_keys(item, facts)
    out: list[str] = []
    text = item.output
    markers = list(_MARKER.finditer(text))
    if markers:
        after = text[markers[-1].end() :].split("\n", 1)
        working_after = len(after[1].split()) if len(after) > 1 else 0
        working_before = len(text[: markers[-1].start()].split())
        if working_after >= 8 and working_before < working_after:
            out.append("answer_first")
        elif working_after < 8 and working_before < 5 and facts.kind in ("number", "math"):
            out.append("bare_answer")
    elif len(text.split()) >= CUT_OFF_WORDS and not text.rstrip().endswith((".", "!", "?")):
        out.append("cut_off")  # a long reply that stops mid-sentence
    if item.finish_reason == "length" and "cut_off" not in out:
        out.append("cut_off")  # the engine says the answer hit the max_tokens cap
    target = item.example.target.strip()
    answer = item.score.answer
    wrong_answer = bool(target) and answer is not None and answer.strip() != target
    reached = _reached_number if facts.kind in ("number", "math") else _reached_text
    if wrong_answer and facts.kind in ("number", "math", "text") and reached(text, target):
        out.append("answer_in_working")
    if wrong_answer and answer is not None and _extra_words(answer, target, facts):
        out.append("extra_words")
    return out


def _whole_reply_keys(item: ExampleResult, facts: TaskFacts) -> list[str]:
    """Observations of a reply that is itself the answer: cut off, or the answer plus other words."""
    out = ["cut_off"] if item.finish_reason == "length" else []
    target = item.example.target.strip()
    reply = " ".join(item.output.split()).strip()
    if target and reply.casefold() != target.casefold() and _extra_words(reply, target, facts):
        out.append("extra_words")
    return out


def observations(item: ExampleResult, facts: TaskFacts | None = None) -> list[str]:
    """What the reply's structure shows beyond the scorer's reason, in words."""
    f = _facts_of(item, facts)
    texts = WHOLE_REPLY_OBSERVED if f.whole_reply else OBSERVED
    return [texts[k] for k in observation_keys(item, f)]


def hint_for(key: str, kind: AnswerKind, whole_reply: bool = False) -> str | None:
    """The fix hint of a failure kind for an answer kind (None: it does not apply)."""
    if whole_reply:
        return WHOLE_REPLY_HINTS.get(key, {}).get(kind)
    overrides = KIND_HINTS.get(kind, {})
    if key in overrides:
        return overrides[key]
    return HINTS.get(key)


def _reason_keys(reason: str) -> list[str]:
    keys = [k for k in _REASON_KEYS if reason.startswith(k)]
    if _NO_LABEL.match(reason):
        keys.append("no label after `Answer:`")
    if "\\boxed" in reason and reason.startswith("no `Answer:` line"):
        keys.append("boxed")
    return keys


def fix_hints(
    items: Sequence[ExampleResult], facts: TaskFacts | None = None, limit: int | None = None
) -> list[str]:
    """Generic fix instructions for the format/structure failures of the batch's wrong replies,
    worded for the answer kind, most frequent first (at most `limit`)."""
    counts: Counter[str] = Counter()
    for item in items:
        if item.score.correct:
            continue
        f = _facts_of(item, facts)
        keys = observation_keys(item, f) + ([] if f.whole_reply else _reason_keys(item.score.reason))
        hints = [h for k in keys if (h := hint_for(k, f.kind, f.whole_reply)) is not None]
        counts.update(dict.fromkeys(hints, 1))
    ranked = [h for h, _ in counts.most_common()]
    return ranked if limit is None else ranked[:limit]


def mask_reason(reason: str, values: BatchValues) -> str:
    """A scorer reason without per-example values: strings as X, every number as N."""
    return mask_numbers(mask_values(reason, values, numbers=False))


def batch_facts(
    items: Sequence[ExampleResult], facts: TaskFacts | None = None, values: BatchValues | None = None
) -> str:
    """The scorer's verdict on the batch, as fact lines without the batch's values."""
    wrong = [i for i in items if not i.score.correct]
    if not wrong:
        return ALL_CORRECT.format(n=len(items))
    values = values if values is not None else batch_values(items, facts.labels if facts else ())
    lines = [f"{len(wrong)} of {len(items)} answers were wrong. Facts from the scorer:"]
    reasons = Counter(mask_reason(i.score.reason, values) for i in wrong)
    lines += [f"- {n} wrong: {r}" for r, n in reasons.most_common()]
    seen = Counter(o for i in wrong for o in observations(i, facts))
    lines += [f"- in {n} wrong: {o}" for o, n in seen.most_common()]
    if len(wrong) < len(items):
        lines.append(f"- {len(items) - len(wrong)} correct: keep what made them work")
    return "\n".join(lines)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3 and w not in _FILLER}


def echoes(line: str, prompt: str) -> bool:
    """True when every content word of `line` is already in `prompt` (the line adds nothing)."""
    words = _stems(line)
    return bool(words) and words <= _stems(prompt)


def contradicts(line: str, facts: TaskFacts | None) -> bool:
    """A suggestion that asks for what the task's conventions rule out: units or words with a bare
    number ("Include the units in the answer" on a task whose targets are bare numbers; seen from the
    1.5B critic on an exact-match numeric task, next to the value-only hint)."""
    if facts is None or facts.kind != "number":
        return False
    return bool(_ASK_UNITS.search(line)) and not _NO_UNITS.search(line)


def clean_suggestions(
    text: str,
    items: Sequence[ExampleResult],
    prompt: str = "",
    limit: int = MAX_SUGGESTIONS,
    values: BatchValues | None = None,
    facts: TaskFacts | None = None,
) -> list[str]:
    """The usable instruction lines of a critic reply: bullets (or, without bullets, the first two
    lines), minus lines about the prompt/model/reply, lines naming a per-example value of the batch
    (`masking.names_value`: its numbers, non-label targets and answers), lines that contradict the
    task conventions (`facts`, see `contradicts`), lines that only echo `prompt`, over-long lines and
    duplicates."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    bullets = [m.group(1) for ln in lines if (m := _BULLET.match(ln))]
    values = values if values is not None else batch_values(items)
    out: list[str] = []
    seen: set[str] = set()
    for line in bullets or [ln.strip() for ln in lines[:2]]:
        line = line.strip().strip('"“”').strip()
        key = re.sub(r"\W+", " ", line.lower()).strip()
        keep_note = line.lower().startswith("keep")
        if (
            not key
            or key in seen
            or _META.search(line)
            or names_value(line, values)
            or contradicts(line, facts)
        ):
            continue
        if len(line.split()) > 40 or (prompt and not keep_note and echoes(line, prompt)):
            continue
        seen.add(key)
        out.append(line)
    return out[:limit]
