"""Robust parsing of the optimizer model's reply, and rejection of degenerate candidates.

Small local models (see local-llm.md) reply in many broken ways; all of them are normal input
here, never exceptions: the old `<VARIABLE>` block nested inside the new tags, the old prompt
returned unchanged, the question/answer/feedback pasted into the "prompt", no tags but
`New prompt: "..."`, and repetition loops until max_tokens. `parse_reply` extracts a candidate
(or says why it could not) and `reject_reason` names what is wrong with an extracted candidate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dlpo.optim.sentences import normalize
from dlpo.tasks.conventions import CONVENTIONS_HEADER

_OPEN = re.compile(r"<\s*IMPROVED[\s_-]*(?:VARIABLE|PROMPT)\s*>", re.IGNORECASE)
_CLOSE = re.compile(r"<\s*/\s*IMPROVED[\s_-]*(?:VARIABLE|PROMPT)\s*>", re.IGNORECASE)
_VAR_BLOCK = re.compile(r"<\s*VARIABLE\s*>(.*?)<\s*/\s*VARIABLE\s*>", re.IGNORECASE | re.DOTALL)
_VAR_TAG = re.compile(r"<\s*/?\s*VARIABLE\s*>", re.IGNORECASE)
_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_LABEL = re.compile(
    r"(?:^|\n)\s*\**\s*(?:new|improved|updated|revised|rewritten|final)\s+(?:system\s+)?prompt\s*\**\s*:\s*\**",
    re.IGNORECASE,
)
_QUOTED = re.compile(r'^\s*["“](.*?)["”]\s*(?:\n|$)', re.DOTALL)
# A suggestion pasted with its list marker and quotes: "... headings. '- Make sure X.' Include ..."
# (a whole sentence: at least three words ending in . ! or ?, so a quoted "- x" term is left alone)
_QUOTED_BULLET = re.compile(
    r"""(?<![\w])(['"“])\s*[-*•]\s+(\S+\s+\S+\s+[^'"“”\n]*?[.!?])\s*(['"”])(?![\w])"""
)
_LEAK_TAGS = re.compile(r"<\s*/?\s*(?:FEEDBACK|PAST_FEEDBACK|DROPOUT|BETTER_VAR|POOR_VAR)\s*>", re.IGNORECASE)

MIN_SHINGLE = 8  # words per shingle when looking for pasted passages
LONG_RUN = 25  # a run this many words long copied from the feedback is a paste, not a quoted suggestion
# Critique language: the critic talks *about* the prompt and the model's answers; a prompt talks to the model.
# The last alternatives are the wording of the gradient's scorer facts (gradient.batch_facts).
_CRITIQUE_TALK = re.compile(
    r"\b(?:the (?:system )?prompt (?:should|does not|doesn't|needs to|must be)|the system prompt\b"
    r"|expected answer (?:is|was)"
    r"|the model(?:'s)? (?:answer|response|answered|responded|output)|the scorer"
    # a description of what a prompt should hold, not an instruction to the model (seen on GSM8K:
    # "A clear and concise instruction for the model to work out ...", "how the model arrived at")
    r"|(?:for|how|what|whether|why) the model\b"
    r"|answers? (?:were|was) (?:wrong|correct)|the reply wrote its|in \d+ wrong|\d+ wrong:|already in the prompt|were not followed)",
    re.IGNORECASE,
)
# The gradient's suggested instructions follow this header (gradient.gradient_text), and the task's
# conventions follow CONVENTIONS_HEADER (tasks.conventions). Both are written to be copied into the
# prompt, so only the feedback outside their bullet lines counts as pasteable prose.
SUGGESTIONS_HEADER = "Suggested instructions for the prompt:"
COPYABLE_HEADERS = (CONVENTIONS_HEADER, SUGGESTIONS_HEADER)


@dataclass(frozen=True)
class ParseResult:
    """`candidate` is None when nothing usable was found; `reason` then says why.
    `method` says how the candidate was found (tags, unclosed_tag, label, fence, variable_tags)."""

    candidate: str | None
    method: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.candidate is not None


def has_repetition_loop(text: str, n: int = 6, min_repeats: int = 3) -> bool:
    """True when some `n`-word sequence repeats `min_repeats` times, or one line repeats 3 times."""
    lines = [ln.strip() for ln in text.splitlines() if len(ln.strip()) > 8]
    if lines and max(lines.count(ln) for ln in set(lines)) >= min_repeats:
        return True
    words = text.split()
    counts: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - n + 1):
        key = tuple(w.lower() for w in words[i : i + n])
        counts[key] = counts.get(key, 0) + 1
        if counts[key] >= min_repeats:
            return True
    return False


def _clean(text: str) -> str:
    """Strip code fences, wrapping quotes and a leading 'New prompt:' label from a candidate, and
    the quotes and list marker of a suggestion pasted inline ("'- Check X.'" -> "Check X.")."""
    text = text.strip()
    fence = _FENCE.fullmatch(text)
    if fence:
        text = fence.group(1).strip()
    label = _LABEL.match(text)
    if label:
        text = text[label.end() :].strip()
    if len(text) >= 2 and text[0] in "\"“'" and text[-1] in "\"”'" and text.count(text[0]) <= 2:
        text = text[1:-1].strip()
    return _QUOTED_BULLET.sub(lambda m: m.group(2), text)


def _unnest(content: str, current: str | None) -> str:
    """Resolve `<VARIABLE>` blocks nested inside the improved-variable tags.

    A nested block that differs from the current prompt is taken to be the new prompt; blocks that
    only repeat the current prompt are dropped when there is other text around them.
    """
    blocks = [b.strip() for b in _VAR_BLOCK.findall(content)]
    if not blocks:
        return _VAR_TAG.sub("", content)
    outside = _VAR_BLOCK.sub("", content).strip()
    cur = normalize(current) if current is not None else None
    fresh = [b for b in blocks if b and normalize(b) != cur]
    if fresh:
        return fresh[-1]
    if outside:
        return _VAR_TAG.sub("", outside)
    return blocks[-1]


def parse_reply(text: str, current: str | None = None, finish_reason: str = "stop") -> ParseResult:
    """Extract the candidate prompt from an optimizer reply."""
    truncated = finish_reason == "length"
    if truncated and has_repetition_loop(text):
        return ParseResult(None, "none", "repetition loop: the reply repeated itself until max_tokens")
    opens = list(_OPEN.finditer(text))
    if opens:
        pairs = []
        for m in opens:
            close = _CLOSE.search(text, m.end())
            if close:
                pairs.append(text[m.end() : close.start()])
        nonempty = [p for p in pairs if p.strip()]
        if nonempty:
            return ParseResult(_clean(_unnest(nonempty[-1], current)), "tags")
        if not pairs:
            if truncated:
                return ParseResult(None, "none", "truncated: the reply hit max_tokens before the closing tag")
            rest = _CLOSE.sub("", text[opens[-1].end() :])
            if not rest.strip() and len(opens) >= 2:  # "<TAG>prompt<TAG>": closed without the slash
                rest = text[opens[-2].end() : opens[-1].start()]
            return ParseResult(_clean(_unnest(rest, current)), "unclosed_tag")
        return ParseResult("", "tags")
    if truncated:
        return ParseResult(
            None, "none", "truncated: the reply hit max_tokens without the <IMPROVED_VARIABLE> tags"
        )
    label = None
    for label in _LABEL.finditer(text):
        pass
    if label is not None:
        rest = text[label.end() :]
        quoted = _QUOTED.match(rest)
        body = quoted.group(1) if quoted else rest.strip().split("\n\n")[0]
        return ParseResult(_clean(_unnest(body, current)), "label")
    fences = _FENCE.findall(text)
    if fences:
        return ParseResult(_clean(_unnest(fences[-1], current)), "fence")
    if _VAR_BLOCK.search(text):
        return ParseResult(_clean(_unnest(text, current)), "variable_tags")
    return ParseResult(None, "none", "missing tags: no <IMPROVED_VARIABLE> block or 'New prompt:' found")


def _shingles(text: str, n: int = MIN_SHINGLE) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _pasted(passage: str, candidate: str, current: str, share: float) -> bool:
    """Did the candidate copy `passage` (verbatim, or `share` of its 8-word shingles), other than
    what the current prompt already contained?"""
    p_norm = normalize(passage).lower()
    c_norm = normalize(candidate).lower()
    if len(p_norm.split()) >= 4 and p_norm in c_norm and p_norm not in normalize(current).lower():
        return True
    shingles = _shingles(passage)
    if len(shingles) < 3:
        return False
    copied = (shingles & _shingles(candidate)) - _shingles(current)
    return len(copied) >= share * len(shingles)


def feedback_prose(feedback: str) -> str:
    """The part of the feedback a candidate must not paste: everything but the suggested instructions
    and the task conventions (the bullet lines after a COPYABLE_HEADERS header, which the optimizer is
    asked to work in)."""
    out: list[str] = []
    copyable = False
    for line in feedback.splitlines():
        stripped = line.strip()
        if stripped in COPYABLE_HEADERS:
            copyable = True
            continue
        bullet = stripped.startswith(("-", "*", "•"))
        if copyable and bullet:
            continue
        if stripped and not bullet:
            copyable = False  # a prose line ends a copyable block
        out.append(line)
    return "\n".join(out).strip()


def _header_copy(header: str) -> re.Pattern[str]:
    """`header` as a small model copies it: any case, any spacing, "The " before it, colon optional."""
    words = header.rstrip(":").split()
    return re.compile(r"(?<!\w)(?:the\s+)?" + r"\s+".join(map(re.escape, words)) + r"\s*:?", re.IGNORECASE)


_HEADER_COPIES = tuple(_header_copy(header) for header in COPYABLE_HEADERS)


def _cut(text: str, start: int, end: int) -> str:
    """`text` without `text[start:end]`, joined as the surrounding lines and sentences need: a
    line left empty goes, two sentences the cut brought together get one space between them."""
    left, right = text[:start].rstrip(" \t"), text[end:].lstrip(" \t")
    if not left or left.endswith("\n"):
        return left + right.removeprefix("\n")
    if not right or right.startswith("\n"):
        return left + right
    return f"{left} {right}"


def drop_copied_headers(candidate: str, current: str) -> tuple[str, int]:
    """`candidate` without the feedback's block headers it copied (COPYABLE_HEADERS: "Task
    conventions (true of every training answer; a good prompt states them):", "Suggested
    instructions for the prompt:"), and how many were dropped; a header the current prompt
    already states is left alone.

    The optimizer is asked to copy the lines under these headers, and a small one copies the header
    too (a 1.5B optimizer's GSM8K prompt kept "The task conventions (true of every ...):" from its
    third step to its last). The header talks about the prompt, not to the model; the lines under
    it are kept."""
    dropped = 0
    for pattern in _HEADER_COPIES:
        if pattern.search(current):
            continue
        while (match := pattern.search(candidate)) is not None:
            candidate = _cut(candidate, *match.span())
            dropped += 1
    return candidate, dropped


def reject_reason(
    candidate: str,
    *,
    current: str,
    sources: Sequence[str] = (),
    feedback: str = "",
    max_words: int | None = None,
) -> str | None:
    """Why `candidate` is not a usable prompt, or None when it is.

    `sources` are the batch texts the backward model saw (questions, model answers, expected
    answers): a candidate that pastes one of them in (verbatim, or half of its 8-word shingles) is
    rejected. The feedback's prose (facts, critique text: everything but the suggested-instruction
    bullets, see `feedback_prose`) is rejected when pasted at large (40% of its shingles, or a run of
    25 words), and so is a candidate that speaks the critic's language ("the system prompt should",
    "the expected answer is", "answers were wrong"); copying the suggested instructions is what the
    optimizer should do.
    """
    if not candidate.strip():
        return "empty: the candidate prompt is empty"
    if normalize(candidate).casefold() == normalize(current).casefold():
        return "unchanged: the candidate is identical to the current prompt"
    n_words = len(candidate.split())
    if max_words is not None and n_words > max_words:
        return f"too long: {n_words} words, the cap is {max_words}"
    if _LEAK_TAGS.search(candidate):
        return "pasted feedback: the candidate contains the request's feedback/technique tags"
    for k, source in enumerate(sources):
        if _pasted(source, candidate, current, share=0.5):
            return (
                f"pasted example: the candidate contains batch text #{k + 1} (a question or answer) verbatim"
            )
    prose = feedback_prose(feedback)
    if prose and (
        _pasted(prose, candidate, current, share=0.4)
        or (_shingles(prose, LONG_RUN) & _shingles(candidate, LONG_RUN)) - _shingles(current, LONG_RUN)
    ):
        return "pasted feedback: the candidate contains the feedback text"
    talk = _CRITIQUE_TALK.search(candidate)
    if talk and not _CRITIQUE_TALK.search(current):
        return f"pasted feedback: the candidate contains critique text ({talk.group(0)!r}) instead of instructions"
    if has_repetition_loop(candidate):
        return "repetitive: the candidate repeats the same passage"
    return None


REASK_HINTS = {
    "repetition": "Your previous reply repeated itself until it was cut off. Write the new prompt once, "
    "briefly, and close the tag.",
    "truncated": "Your previous reply was cut off before the closing tag. Write a shorter prompt and close the tag.",
    "missing": "Your previous reply had no <IMPROVED_VARIABLE> tags. Reply with the new prompt between "
    "<IMPROVED_VARIABLE> and </IMPROVED_VARIABLE>.",
    "empty": "Your previous reply had an empty prompt. Write the full new prompt between the tags.",
    "unchanged": "Your previous reply returned the prompt unchanged. Apply the feedback: the new prompt must "
    "differ from the current one.",
    "too": "Your previous prompt was too long. Keep the new prompt short.",
    "pasted example": "Your previous reply copied a training question or answer into the prompt. Write general "
    "instructions only, with no specific question or answer.",
    "pasted feedback": "Your previous reply copied facts or critique from the feedback into the prompt. The facts "
    "are for you, not prompt text: write only instructions addressed to the model, such as the suggested "
    "instructions.",
    "repetitive": "Your previous prompt repeated the same text. Write each instruction once.",
    "already rejected": "Your previous reply proposed a prompt that was already tried and scored worse than the "
    "current one. Propose a different change.",
    "not json": "Your previous reply was not a JSON object of sentence edits.",
}


def reask_hint(reason: str) -> str:
    """The short reminder sent with the one re-ask after an unusable reply."""
    head = reason.split(":", 1)[0]
    if head in REASK_HINTS:
        return REASK_HINTS[head]
    key = head.split(" ", 1)[0]
    if key == "too" and ":" in reason:
        return f"Your previous prompt was too long ({reason.split(':', 1)[1].strip()}). Keep the new prompt short."
    return REASK_HINTS.get(key, REASK_HINTS["missing"])
