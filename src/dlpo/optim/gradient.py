"""The textual gradient: per-example critiques of the prompt, reduced into one criticism.

Every example of the minibatch gets a critique (the reference code keeps only one - bug B1):
the critic sees the prompt, the question, the model's answer (head and tail when long), the
expected answer and the scorer's reason. Correct examples are critiqued too, marked correct, so
the reduction knows what works and tells the optimizer to keep it. When every example is correct
the gradient still exists: it says what to keep and how to make the prompt more robust (the
optimizer may still propose a change; acceptance rules decide).

All critiques go out as one concurrent batch, then one reduction call (skipped for a batch of one,
where the single critique is the gradient). Both use role "backward".
"""

from __future__ import annotations

from collections.abc import Sequence

from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.evaluation import EvalResult, ExampleResult
from dlpo.optim.base import Gradient
from dlpo.optim.variable import Prompt
from dlpo.tasks.base import Task

CRITIC_SYSTEM = "You review system prompts for language models. Be concrete and brief."

CRITIQUE_WRONG = (
    "The answer is WRONG ({reason}). In at most 3 sentences, say what in the system prompt led to "
    "this error and how the system prompt should change so that answers like this become correct. "
    "Give general advice; do not solve this question and do not rewrite the whole prompt."
)
CRITIQUE_RIGHT = (
    "The answer is CORRECT. In at most 2 sentences, say which part of the system prompt helped and "
    "must be kept, or how the prompt could make such answers more reliable."
)

REDUCE_INSTRUCTION = (
    "Above are critiques of the same system prompt, one per training example ({n_wrong} of {n} answered "
    "wrongly). Merge them into one short list of at most 5 concrete changes to the system prompt, most "
    "important first. Say what worked on the correct examples so it is kept. Give general advice: do not "
    "quote specific questions or numbers."
)
REDUCE_ALL_RIGHT = (
    "Above are critiques of the same system prompt, one per training example; all {n} were answered "
    "correctly. Merge them into at most 3 short points: what the prompt must keep, and how it could be "
    "made more robust. Do not quote specific questions or numbers."
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


def _prompt_block(prompt: Prompt) -> str:
    return f"System prompt ({prompt.role_description}):\n<SYSTEM_PROMPT>\n{prompt.text or '(empty)'}\n</SYSTEM_PROMPT>"


def critique_request(prompt: Prompt, task: Task, item: ExampleResult, max_tokens: int = 200) -> ChatRequest:
    """The critic's request for one example of the batch."""
    verdict = CRITIQUE_RIGHT if item.score.correct else CRITIQUE_WRONG.format(reason=item.score.reason)
    user = (
        f"{_prompt_block(prompt)}\n\n"
        f"Question given to the model:\n<QUESTION>\n{task.format_input(item.example)}\n</QUESTION>\n\n"
        f"Model answer:\n<ANSWER>\n{answer_excerpt(item.output)}\n</ANSWER>\n\n"
        f"Expected answer: {item.example.target}\n"
        f"Scorer: {item.score.reason}\n\n{verdict}"
    )
    return ChatRequest.chat(CRITIC_SYSTEM, user, temperature=0.0, max_tokens=max_tokens)


def reduction_request(
    prompt: Prompt, items: Sequence[ExampleResult], critiques: Sequence[str], max_tokens: int = 300
) -> ChatRequest:
    """One request that merges all per-example critiques into the batch's gradient."""
    parts = []
    for k, (item, critique) in enumerate(zip(items, critiques), start=1):
        mark = "correct" if item.score.correct else f"wrong: {item.score.reason}"
        parts.append(f"<CRITIQUE example={k} ({mark})>\n{critique.strip()}\n</CRITIQUE>")
    n_wrong = sum(not i.score.correct for i in items)
    instruction = (REDUCE_INSTRUCTION if n_wrong else REDUCE_ALL_RIGHT).format(n=len(items), n_wrong=n_wrong)
    user = f"{_prompt_block(prompt)}\n\n" + "\n\n".join(parts) + f"\n\n{instruction}"
    return ChatRequest.chat(CRITIC_SYSTEM, user, temperature=0.0, max_tokens=max_tokens)


def batch_sources(items: Sequence[ExampleResult]) -> tuple[str, ...]:
    """The batch texts a candidate prompt must not paste in: questions, answers, targets."""
    out: list[str] = []
    for item in items:
        out.extend(t for t in (item.example.input, item.output, item.example.target) if t.strip())
    return tuple(out)


async def compute_gradient(
    client: LLMClient,
    prompt: Prompt,
    task: Task,
    result: EvalResult,
    *,
    critique_max_tokens: int = 200,
    reduction_max_tokens: int = 300,
    role: str = "backward",
) -> Gradient:
    """Critique every example of `result` (one concurrent batch) and reduce to one `Gradient`."""
    items = list(result.results)
    if not items:
        raise ValueError("cannot compute a textual gradient from an empty batch")
    requests = [critique_request(prompt, task, item, critique_max_tokens) for item in items]
    critiques = [c.text.strip() for c in await client.complete(requests, role=role)]
    if len(items) == 1:
        text = critiques[0]
    else:
        [reduced] = await client.complete(
            [reduction_request(prompt, items, critiques, reduction_max_tokens)], role=role
        )
        text = reduced.text.strip() or "\n".join(critiques)
    return Gradient(
        text=text, critiques=tuple(critiques), batch_score=result.mean, sources=batch_sources(items)
    )
