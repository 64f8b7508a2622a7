"""The deterministic half of the textual gradient: scorer facts, observations, fix hints, cleaning.

Measured on the local 1.5B critic (H7 probe): asked to diagnose a wrong reply it hallucinates or
echoes the prompt under review ("Make sure the answer is clear and concise"), even when the reply
plainly wrote `Answer: 22` first and reasoned afterwards. What the scorer and the reply's layout
show is therefore computed here, without an LLM:

* `observations`: what the reply's structure shows (answer line before the working, a bare answer
  with no working, the expected answer reached in the working but not on the answer line, a long
  reply that stops mid-sentence before any answer line, i.e. hit the forward token cap);
* `fix_hints`: one generic instruction per observed failure kind, for the answer-line format the
  task's scorers read (`Answer: ...`). They say how to fix a *format/structure* failure, never
  anything about a question's content, and are the first suggested instructions of the gradient;
* `batch_facts`: the batch's verdict with the scorer's reasons, numbers masked;
* `clean_suggestions`: the usable instruction lines of a critic reply (no talk about the prompt or
  model, no numbers from the batch, no line that only repeats what the prompt already says).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from dlpo.evaluation import ExampleResult

ALL_CORRECT = (
    "All {n} answers were correct and in the required format. Keep every instruction of the prompt; only "
    "make it clearer or more robust."
)
MAX_SUGGESTIONS = 4
CUT_OFF_WORDS = 60  # a reply this long that ends mid-sentence without an answer line was cut off

OBSERVED = {
    "answer_first": "the reply wrote its `Answer:` line first and its working only after it",
    "bare_answer": "the reply gave only the answer, with no working",
    "answer_in_working": "the expected answer appears in the reply's working but not on its `Answer:` line",
    "cut_off": "the reply was too long and was cut off at the length limit before any `Answer:` line",
}
# Fix hints: observation keys and scorer-reason prefixes -> one generic instruction each.
HINTS = {
    "answer_first": "Work the problem out in a few short steps first, and write the `Answer:` line only at the "
    "very end.",
    "bare_answer": "Show your working in a few short steps before the final answer line.",
    "answer_in_working": "Make the final `Answer:` line give the result that your working reached.",
    "cut_off": "Keep the working short: a few plain sentences, with no LaTeX, no code and no headings.",
    "no `Answer:` line": "Always end your reply with the answer line that the question asks for.",
    "boxed": "Do not use \\boxed{} or LaTeX; end with the answer line that the question asks for.",
    "several numbers after `Answer:`": "Put exactly one number on the `Answer:` line.",
    "no number after `Answer:`": "Write the final result itself after `Answer:`, not a placeholder.",
}

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.*\S)\s*$")
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
_MARKER = re.compile(r"answer[\s*_`]*[:：]", re.IGNORECASE)
# Lines that talk about the prompt, the model or the batch instead of instructing the model.
_META = re.compile(
    r"\b(?:the (?:system )?prompt|the model|the scorer|expected answer|the (?:critique|feedback)|this question"
    r"|the (?:reply|response)|example \d|(?:add|include|insert) (?:a |an |the )?(?:line|sentence|instruction))\b",
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


def mask_numbers(text: str) -> str:
    """'answered 22, expected 29' -> 'answered N, expected N' (facts must not carry batch numbers)."""
    return _NUMBER.sub("N", text)


def observation_keys(item: ExampleResult) -> list[str]:
    """Keys of `OBSERVED` that hold for a reply (meant for wrong replies)."""
    out: list[str] = []
    text = item.output
    markers = list(_MARKER.finditer(text))
    if markers:
        after = text[markers[-1].end() :].split("\n", 1)
        working_after = len(after[1].split()) if len(after) > 1 else 0
        working_before = len(text[: markers[-1].start()].split())
        if working_after >= 8 and working_before < working_after:
            out.append("answer_first")
        elif working_after < 8 and working_before < 5:
            out.append("bare_answer")
    elif len(text.split()) >= CUT_OFF_WORDS and not text.rstrip().endswith((".", "!", "?")):
        out.append("cut_off")  # a long reply that stops mid-sentence
    if item.finish_reason == "length" and "cut_off" not in out:
        out.append("cut_off")  # the engine says the answer hit the max_tokens cap
    target = item.example.target.strip()
    wrong_answer = target and item.score.answer is not None and item.score.answer.strip() != target
    if wrong_answer and re.search(rf"(?<![\w.]){re.escape(target)}(?![\w]|\.\d)", text):
        out.append("answer_in_working")
    return out


def observations(item: ExampleResult) -> list[str]:
    """What the reply's structure shows beyond the scorer's reason, in words."""
    return [OBSERVED[k] for k in observation_keys(item)]


def fix_hints(items: Sequence[ExampleResult]) -> list[str]:
    """Generic fix instructions for the format/structure failures of the batch's wrong replies,
    most frequent first."""
    counts: Counter[str] = Counter()
    for item in items:
        if item.score.correct:
            continue
        keys = observation_keys(item)
        reason = item.score.reason
        keys += [k for k in HINTS if k not in OBSERVED and reason.startswith(k)]
        if "\\boxed" in reason:
            keys.append("boxed")
        counts.update(dict.fromkeys(keys, 1))
    return [HINTS[k] for k, _ in counts.most_common()]


def batch_facts(items: Sequence[ExampleResult]) -> str:
    """The scorer's verdict on the batch, as fact lines without the batch's numbers."""
    wrong = [i for i in items if not i.score.correct]
    if not wrong:
        return ALL_CORRECT.format(n=len(items))
    lines = [f"{len(wrong)} of {len(items)} answers were wrong. Facts from the scorer:"]
    reasons = Counter(mask_numbers(i.score.reason) for i in wrong)
    lines += [f"- {n} wrong: {r}" for r, n in reasons.most_common()]
    seen = Counter(o for i in wrong for o in observations(i))
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


def batch_numbers(items: Sequence[ExampleResult]) -> set[str]:
    return {n for i in items for t in (i.example.input, i.example.target) for n in _NUMBER.findall(t)}


def clean_suggestions(
    text: str, items: Sequence[ExampleResult], prompt: str = "", limit: int = MAX_SUGGESTIONS
) -> list[str]:
    """The usable instruction lines of a critic reply: bullets (or, without bullets, the first two
    lines), minus lines about the prompt/model/reply, lines quoting the batch's numbers, lines that
    only echo `prompt`, over-long lines and duplicates."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    bullets = [m.group(1) for ln in lines if (m := _BULLET.match(ln))]
    numbers = batch_numbers(items)
    out: list[str] = []
    seen: set[str] = set()
    for line in bullets or [ln.strip() for ln in lines[:2]]:
        line = line.strip().strip('"“”').strip()
        key = re.sub(r"\W+", " ", line.lower()).strip()
        keep_note = line.lower().startswith("keep")
        if not key or key in seen or _META.search(line) or set(_NUMBER.findall(line)) & numbers:
            continue
        if len(line.split()) > 40 or (prompt and not keep_note and echoes(line, prompt)):
            continue
        seen.add(key)
        out.append(line)
    return out[:limit]
