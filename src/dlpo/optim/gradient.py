"""The textual gradient: facts from the scorer plus the critic's suggestions, for one minibatch.

Small critics (local-llm.md) hallucinate ("the expected answer should be 3"), praise whatever the
prompt says, and write critiques *about* the prompt that the optimizer then pastes into it. So the
gradient is built to be hard to get wrong:

* Facts come from code, not from the critic: how many answers were wrong and the scorer's reasons
  (numbers masked, so nothing example-specific reaches the optimizer), plus observations the
  scorer's output supports, e.g. "the `Answer:` line came before the working" or "the working
  reaches the expected answer, the `Answer:` line does not".
* Only wrong examples go to the critic (one concurrent batch). It is told that the expected answer
  is given and correct, sees the scorer's reason and the observations, and is asked for one or two
  instructions *addressed to the model*, as lines starting with "- " (no question, names or numbers).
  Correct examples get a fixed note instead (`critique_correct=True` asks the critic for them too).
* Two or more critiques are merged by one reduction call into 2-4 such instruction lines. Every
  critic reply is then cleaned by code: only instruction lines are kept, lines that talk about the
  prompt/model or quote the batch's numbers are dropped, duplicates are merged. If nothing survives,
  the facts alone are the gradient.

All calls use role "backward". `Gradient.critiques` has one entry per example (the fixed note for
correct ones), so reports stay aligned with the batch.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.evaluation import EvalResult, ExampleResult
from dlpo.optim.base import Gradient
from dlpo.optim.parsing import SUGGESTIONS_HEADER
from dlpo.optim.variable import Prompt
from dlpo.tasks.base import Task

CRITIC_SYSTEM = (
    "You improve system prompts for a language model. The expected answers you are shown are given and "
    "correct. Reply only with short instructions for the model, one per line, each starting with '- '."
)

CRITIQUE_WRONG = (
    "The reply is WRONG. Suggest one or two instructions to add to the system prompt so that the model answers "
    "questions like this correctly. Base them on what the reply did wrong (see the scorer and what was "
    "observed). Address the model directly. Do not mention this question, its names or its numbers, and do not "
    "explain. Reply with at most 2 lines, each of the form '- <instruction>'."
)
CRITIQUE_RIGHT = (
    "The reply is CORRECT. Name in one line the instruction of the system prompt that must be kept, as "
    "'- Keep: <instruction>'."
)
CORRECT_NOTE = "- Keep what the prompt already does: this answer was correct."

REDUCE_INSTRUCTION = (
    "Merge these suggestions into 2 to 4 instructions for the system prompt, most important first, one per "
    "line of the form '- <instruction>', each addressed to the model. Merge duplicates, prefer those that fit "
    "the facts, and use no names or numbers from the questions. No explanations."
)
ALL_CORRECT = (
    "All {n} answers were correct and in the required format. Keep every instruction of the prompt; only "
    "make it clearer or more robust."
)
MAX_SUGGESTIONS = 4

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.*\S)\s*$")
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
_MARKER = re.compile(r"answer[\s*_`]*[:：]", re.IGNORECASE)
# Lines that talk about the prompt, the model or the batch instead of instructing the model.
_META = re.compile(
    r"\b(?:the (?:system )?prompt|the model|the scorer|expected answer|the (?:critique|feedback)|this question"
    r"|the (?:reply|response)|example \d|(?:add|include|insert) (?:a |an |the )?(?:line|sentence|instruction))\b",
    re.IGNORECASE,
)


def answer_excerpt(text: str, max_words: int = 160, head: int = 100, tail: int = 50) -> str:
    """The model answer shown to the critic: whole when short, else its head and tail."""
    words = text.split()
    if len(words) <= max_words:
        return text.strip()
    return (
        " ".join(words[:head])
        + f" [... {len(words) - head - tail} words omitted ...] "
        + " ".join(words[-tail:])
    )


def mask_numbers(text: str) -> str:
    """'answered 22, expected 29' -> 'answered N, expected N' (facts must not carry batch numbers)."""
    return _NUMBER.sub("N", text)


def observations(item: ExampleResult) -> list[str]:
    """What the scorer's view of a wrong reply shows beyond its reason (deterministic, no LLM)."""
    out: list[str] = []
    text = item.output
    markers = list(_MARKER.finditer(text))
    if markers:
        after = text[markers[-1].end() :].split("\n", 1)
        working_after = len(after[1].split()) if len(after) > 1 else 0
        working_before = len(text[: markers[-1].start()].split())
        if working_after >= 8 and working_before < working_after:
            out.append("the reply wrote its `Answer:` line first and its working only after it")
        elif working_after < 8 and working_before < 5:
            out.append("the reply gave only the answer, with no working")
    target = item.example.target.strip()
    if target and item.score.answer is not None and item.score.answer.strip() != target:
        if re.search(rf"(?<![\w.]){re.escape(target)}(?![\w]|\.\d)", text):
            out.append("the expected answer appears in the reply's working but not on its `Answer:` line")
    return out


def batch_facts(items: Sequence[ExampleResult]) -> str:
    """The scorer's verdict on the batch, as numbered-free fact lines."""
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


def _prompt_block(prompt: Prompt) -> str:
    return f"System prompt ({prompt.role_description}):\n<SYSTEM_PROMPT>\n{prompt.text or '(empty)'}\n</SYSTEM_PROMPT>"


def critique_request(prompt: Prompt, task: Task, item: ExampleResult, max_tokens: int = 200) -> ChatRequest:
    """The critic's request for one example of the batch."""
    if item.score.correct:
        verdict, facts = CRITIQUE_RIGHT, ""
    else:
        seen = observations(item)
        facts = f"Scorer: {item.score.reason}\n" + "".join(f"Observed: {o}.\n" for o in seen)
        verdict = CRITIQUE_WRONG
    user = (
        f"{_prompt_block(prompt)}\n\n"
        f"Question given to the model:\n<QUESTION>\n{task.format_input(item.example)}\n</QUESTION>\n\n"
        f"The model's reply:\n<ANSWER>\n{answer_excerpt(item.output)}\n</ANSWER>\n\n"
        f"Expected answer (given and correct): {item.example.target}\n{facts}\n{verdict}"
    )
    return ChatRequest.chat(CRITIC_SYSTEM, user, temperature=0.0, max_tokens=max_tokens)


def reduction_request(
    prompt: Prompt, items: Sequence[ExampleResult], critiques: Sequence[str], max_tokens: int = 300
) -> ChatRequest:
    """One request that merges the critiques of the wrong examples into 2-4 instruction lines."""
    suggestions = [
        c for item, c in zip(items, critiques) if not item.score.correct and c.strip() and c != CORRECT_NOTE
    ]
    body = "\n".join(s.strip() for s in suggestions)
    user = (
        f"{_prompt_block(prompt)}\n\n{batch_facts(items)}\n\n"
        f"Suggestions from reviewers of the wrong answers:\n<SUGGESTIONS>\n{body}\n</SUGGESTIONS>\n\n"
        f"{REDUCE_INSTRUCTION}"
    )
    return ChatRequest.chat(CRITIC_SYSTEM, user, temperature=0.0, max_tokens=max_tokens)


def _batch_numbers(items: Sequence[ExampleResult]) -> set[str]:
    return {n for i in items for t in (i.example.input, i.example.target) for n in _NUMBER.findall(t)}


def clean_suggestions(text: str, items: Sequence[ExampleResult], limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The usable instruction lines of a critic reply: bullets (or, without bullets, the first lines),
    minus lines about the prompt/model/reply, lines quoting the batch's numbers, and duplicates."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    bullets = [m.group(1) for ln in lines if (m := _BULLET.match(ln))]
    candidates = bullets or [ln.strip() for ln in lines[:2]]
    numbers = _batch_numbers(items)
    out: list[str] = []
    seen: set[str] = set()
    for line in candidates:
        line = line.strip().strip('"“”').strip()
        key = re.sub(r"\W+", " ", line.lower()).strip()
        if not key or key in seen or _META.search(line) or set(_NUMBER.findall(line)) & numbers:
            continue
        if len(line.split()) > 40:
            continue
        seen.add(key)
        out.append(line)
    return out[:limit]


def batch_sources(items: Sequence[ExampleResult]) -> tuple[str, ...]:
    """The batch texts a candidate prompt must not paste in: questions, answers, targets."""
    out: list[str] = []
    for item in items:
        out.extend(t for t in (item.example.input, item.output, item.example.target) if t.strip())
    return tuple(out)


def gradient_text(facts: str, suggestions: Sequence[str]) -> str:
    if not suggestions:
        return facts
    return f"{facts}\n\n{SUGGESTIONS_HEADER}\n" + "\n".join(f"- {s}" for s in suggestions)


async def compute_gradient(
    client: LLMClient,
    prompt: Prompt,
    task: Task,
    result: EvalResult,
    *,
    critique_max_tokens: int = 200,
    reduction_max_tokens: int = 300,
    critique_correct: bool = False,
    role: str = "backward",
) -> Gradient:
    """Facts for the batch, critiques of its wrong examples (one concurrent batch), one reduction
    when two or more critiques came back; returns the `Gradient`."""
    items = list(result.results)
    if not items:
        raise ValueError("cannot compute a textual gradient from an empty batch")
    asked = [k for k, item in enumerate(items) if critique_correct or not item.score.correct]
    critiques = [CORRECT_NOTE] * len(items)
    if asked:
        requests = [critique_request(prompt, task, items[k], critique_max_tokens) for k in asked]
        for k, c in zip(asked, await client.complete(requests, role=role)):
            critiques[k] = c.text.strip()
    wrong_critiques = [critiques[k] for k in asked if not items[k].score.correct]
    kept = [s for c in critiques if c != CORRECT_NOTE for s in clean_suggestions(c, items)]
    if len(wrong_critiques) >= 2:
        [reduced] = await client.complete(
            [reduction_request(prompt, items, critiques, reduction_max_tokens)], role=role
        )
        merged = clean_suggestions(reduced.text, items)
        if merged:
            kept = merged + [s for s in kept if s.lower().startswith("keep:")]
    unique = list(dict.fromkeys(kept))[:MAX_SUGGESTIONS]
    return Gradient(
        text=gradient_text(batch_facts(items), unique),
        critiques=tuple(critiques),
        batch_score=result.mean,
        sources=batch_sources(items),
    )
