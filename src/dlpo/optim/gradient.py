"""The textual gradient: scorer facts, fix hints and the critic's suggestions, for one minibatch.

Small critics (local-llm.md, and the H7 probe) hallucinate ("the expected answer should be 3"),
echo the prompt under review, and write critiques *about* the prompt that the optimizer then pastes
into it. So the gradient is built to be hard to get wrong:

* Facts come from code (`dlpo.optim.facts`): how many answers were wrong and the scorer's reasons
  (per-example values masked: numbers, labels, option letters, free text; `dlpo.optim.masking`),
  what the replies' layout shows (answer line before the working, bare answers, ...), the task's
  conventions, and at most two generic fix hints for the task's answer kind. The feedback switch
  (`dlpo.optim.feedback`, run option `feedback`) turns all of them off (`plain`).
* Only wrong examples go to the critic (one concurrent batch). It is told that the expected answer
  is given and correct and what went wrong (scorer reason + observations), and is asked for one or
  two instructions *addressed to the model* that fix it, as lines starting with "- ". Correct
  examples get a fixed note instead (`critique_correct=True` asks the critic for them too).
* Two or more critiques are merged by one reduction call into 2-4 such lines. Every critic reply is
  cleaned by code (`facts.clean_suggestions`): only instruction lines survive, without talk about
  the prompt/model, the batch's per-example values, or lines that merely repeat the current prompt.

The gradient text is `feedback.compose`: the facts, then `SUGGESTIONS_HEADER` and up to 4
instruction lines (at most 2 fix hints first, so 2 critic lines always fit). All calls use role
"backward". `Gradient.critiques` has one entry per example (the fixed
note for correct ones), so reports stay aligned with the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.evaluation import EvalResult, ExampleResult
from dlpo.optim.base import Gradient
from dlpo.optim.facts import ALL_CORRECT, batch_facts, clean_suggestions
from dlpo.optim.feedback import ECHO_NOTE, FeedbackPolicy, compose, hints, suggestions_block, what_went_wrong
from dlpo.optim.variable import Prompt
from dlpo.tasks.base import Task

CRITIC_SYSTEM = (
    "You improve system prompts for a language model. The expected answers you are shown are given and "
    "correct. Reply only with short instructions for the model, one per line, each starting with '- '."
)

CRITIQUE_WRONG = (
    "Write one or two instructions to add to the system prompt that fix what went wrong, so that the model "
    "answers questions like this correctly. Address the model directly. Do not repeat what the system prompt "
    "already says, do not mention this question, its names or its numbers, and do not explain. Reply with at "
    "most 2 lines, each of the form '- <instruction>'."
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

__all__ = [
    "ALL_CORRECT",
    "CORRECT_NOTE",
    "CRITIC_SYSTEM",
    "ECHO_NOTE",
    "compute_gradient",
    "critique_request",
]


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


def _prompt_block(prompt: Prompt) -> str:
    return f"System prompt ({prompt.role_description}):\n<SYSTEM_PROMPT>\n{prompt.text or '(empty)'}\n</SYSTEM_PROMPT>"


def critique_request(
    prompt: Prompt,
    task: Task,
    item: ExampleResult,
    max_tokens: int = 200,
    policy: FeedbackPolicy | None = None,
) -> ChatRequest:
    """The critic's request for one example of the batch (`policy`: what it is told went wrong)."""
    policy = policy if policy is not None else FeedbackPolicy()
    if item.score.correct:
        verdict, facts = CRITIQUE_RIGHT, "The reply is CORRECT."
    elif policy.facts:
        verdict, facts = (
            CRITIQUE_WRONG,
            f"The reply is WRONG. What went wrong: {what_went_wrong(item, policy)}.",
        )
    else:
        found = item.score.answer if item.score.answer is not None else "(no answer found)"
        verdict, facts = CRITIQUE_WRONG, f"The reply is WRONG. Answer found in the reply: {found}."
    user = (
        f"{_prompt_block(prompt)}\n\n"
        f"Question given to the model:\n<QUESTION>\n{task.format_input(item.example)}\n</QUESTION>\n\n"
        f"The model's reply:\n<ANSWER>\n{answer_excerpt(item.output)}\n</ANSWER>\n\n"
        f"Expected answer (given and correct): {item.example.target}\n{facts}\n\n{verdict}"
    )
    return ChatRequest.chat(CRITIC_SYSTEM, user, temperature=0.0, max_tokens=max_tokens)


def reduction_request(
    prompt: Prompt,
    items: Sequence[ExampleResult],
    critiques: Sequence[str],
    max_tokens: int = 300,
    policy: FeedbackPolicy | None = None,
) -> ChatRequest:
    """One request that merges the critiques of the wrong examples into 2-4 instruction lines."""
    policy = policy if policy is not None else FeedbackPolicy()
    suggestions = [c for item, c in zip(items, critiques) if not item.score.correct and c.strip()]
    body = "\n".join(s.strip() for s in suggestions)
    wrong = sum(not i.score.correct for i in items)
    verdict = (
        batch_facts(items, policy.task, policy.values(items))
        if policy.facts
        else f"{wrong} of {len(items)} answers were wrong."
    )
    user = (
        f"{_prompt_block(prompt)}\n\n{verdict}\n\n"
        f"Suggestions from reviewers of the wrong answers:\n<SUGGESTIONS>\n{body}\n</SUGGESTIONS>\n\n"
        f"{REDUCE_INSTRUCTION}"
    )
    return ChatRequest.chat(CRITIC_SYSTEM, user, temperature=0.0, max_tokens=max_tokens)


def batch_sources(items: Sequence[ExampleResult]) -> tuple[str, ...]:
    """The batch texts a candidate prompt must not paste in: questions, answers, targets."""
    out: list[str] = []
    for item in items:
        out.extend(t for t in (item.example.input, item.output, item.example.target) if t.strip())
    return tuple(out)


def gradient_text(facts: str, suggestions: Sequence[str]) -> str:
    """Facts, then the suggested instructions under `SUGGESTIONS_HEADER` (none: the facts alone)."""
    return "\n\n".join(b for b in (facts, suggestions_block(suggestions)) if b)


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
    policy: FeedbackPolicy | None = None,
) -> Gradient:
    """Facts and fix hints for the batch, critiques of its wrong examples (one concurrent batch),
    one reduction when two or more critiques came back; returns the `Gradient`. `policy` is the
    feedback switch (default: `facts`, no task conventions)."""
    policy = policy if policy is not None else FeedbackPolicy()
    items = list(result.results)
    if not items:
        raise ValueError("cannot compute a textual gradient from an empty batch")
    asked = [k for k, item in enumerate(items) if critique_correct or not item.score.correct]
    critiques = [CORRECT_NOTE] * len(items)
    if asked:
        requests = [critique_request(prompt, task, items[k], critique_max_tokens, policy) for k in asked]
        for k, c in zip(asked, await client.complete(requests, role=role)):
            critiques[k] = c.text.strip()
    values = policy.values(items)
    facts = policy.task if policy.facts else None
    kept = [
        s
        for k in asked
        for s in clean_suggestions(critiques[k], items, prompt.text, values=values, facts=facts)
    ]
    if sum(not items[k].score.correct for k in asked) >= 2:
        [reduced] = await client.complete(
            [reduction_request(prompt, items, critiques, reduction_max_tokens, policy)], role=role
        )
        merged = clean_suggestions(reduced.text, items, prompt.text, values=values, facts=facts)
        if merged:
            kept = merged + [s for s in kept if s.lower().startswith("keep")]
    kept = list(dict.fromkeys(kept))
    wrong = sum(not i.score.correct for i in items)
    text = compose(items, policy, kept, prompt.text) or f"{wrong} of {len(items)} answers were wrong."
    return Gradient(
        text=text,
        critiques=tuple(critiques),
        batch_score=result.mean,
        sources=batch_sources(items),
        hints=tuple(hints(items, policy)),
        suggestions=tuple(kept),
        values=values,
        task_facts=policy.task if policy.facts else None,
    )
