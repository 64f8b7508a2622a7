"""TextGrad's textual gradient, literally: two LLM hops per example and a concatenation.

The `textgrad` preset uses this instead of dlpo's engineered gradient (`optim/gradient.py`). It
follows the prompt-optimization example of TextGrad (zou-group/textgrad), where the loss of an
example is a string-match check of the model's answer, the batch loss is `tg.sum` of those, and
`loss.backward()` runs, per example:

* hop 1 (the string-match function's backward): the backward LLM sees the question, the model's
  response and the evaluation (expected answer, the answer found, correct or not) and writes
  concise feedback on the *response*. Correct examples are critiqued too.
* hop 2 (the forward LLM call's backward): the backward LLM sees the system prompt (the variable,
  with its role description), the forward call (question -> response) and the hop-1 feedback, and
  says how the *system prompt* should change. This is the prompt's gradient for that example.

`tg.sum` makes no LLM call: the prompt's gradients are concatenated, one labelled block per example
(TextGrad's optimizer joins them the same way), and one TGD call rewrites the prompt (the
optimizer's request, unchanged). Calls: 2 x batch backward calls (role "backward"), no reduction.

The feedback switch applies as to every method (`dlpo.optim.feedback`): under `facts` hop 1's
evaluation also says what went wrong (scorer reason, layout observations) and the gradient starts
with the same facts block, task conventions and fix hints as dlpo's gradient; under `plain` it is
TextGrad's literal concatenation. Under both, the batch's per-example values are masked in the
concatenated feedback, which the optimizer sees (`dlpo.optim.masking`).

The request wording is ours, not TextGrad's strings; the mapping of each part is in
`docs/methods.md` (section on `tgd`/`textgrad`). One documented difference: long responses are
shown as head and tail (`answer_excerpt`, as in dlpo's gradient) to keep small models' contexts short.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.evaluation import EvalResult, ExampleResult
from dlpo.optim.base import Gradient
from dlpo.optim.feedback import FeedbackPolicy, compose, hints, what_went_wrong
from dlpo.optim.gradient import answer_excerpt, batch_sources
from dlpo.optim.masking import mask_values
from dlpo.optim.variable import Prompt
from dlpo.tasks.base import Task

__all__ = [
    "FEEDBACK_SYSTEM",
    "compute_textgrad_gradient",
    "concatenate",
    "prompt_feedback_request",
    "response_feedback_request",
]

FEEDBACK_SYSTEM = (
    "You are the feedback engine of a system that optimizes a text (the variable) step by step. Your only "
    "job is to give critical, specific feedback that helps improve the variable towards the objective. Do "
    "not write a new version of the variable; give feedback only. Be concise."
)

RESPONSE_INSTRUCTION = (
    "The variable here is the model's response; the objective is that the evaluation finds its answer equal "
    "to the expected answer. Give concise feedback on the response: what in it led to this evaluation, and "
    "what about it should change (or, if it is correct, what made it correct)."
)

PROMPT_INSTRUCTION = (
    "The variable here is the system prompt. Using the conversation and the feedback on the response, say "
    "how the system prompt could be changed so that the model's responses to questions like this one are "
    "evaluated as correct. Be critical and specific."
)


def _evaluation(item: ExampleResult, policy: FeedbackPolicy) -> str:
    """The string-match loss as TextGrad's function shows it: its inputs and its 0/1 output (and,
    under `facts`, what went wrong)."""
    found = item.score.answer if item.score.answer is not None else "(no answer found)"
    verdict = "correct (1)" if item.score.correct else "incorrect (0)"
    wrong = what_went_wrong(item, policy)
    return (
        "Evaluation: the answer in the response is compared with the expected answer by exact string match.\n"
        f"Expected answer: {item.example.target}\nAnswer found in the response: {found}\nResult: {verdict}"
        + (f"\nWhat went wrong: {wrong}" if wrong else "")
    )


def response_feedback_request(
    task: Task, item: ExampleResult, max_tokens: int = 200, policy: FeedbackPolicy | None = None
) -> ChatRequest:
    """Hop 1: feedback on the model's response to one example, given the evaluation."""
    policy = policy if policy is not None else FeedbackPolicy()
    user = (
        f"Question given to the model:\n<QUESTION>\n{task.format_input(item.example)}\n</QUESTION>\n\n"
        f"The model's response (the variable):\n<RESPONSE>\n{answer_excerpt(item.output)}\n</RESPONSE>\n\n"
        f"{_evaluation(item, policy)}\n\n{RESPONSE_INSTRUCTION}"
    )
    return ChatRequest.chat(FEEDBACK_SYSTEM, user, temperature=0.0, max_tokens=max_tokens)


def prompt_feedback_request(
    prompt: Prompt, task: Task, item: ExampleResult, response_feedback: str, max_tokens: int = 200
) -> ChatRequest:
    """Hop 2: feedback on the system prompt, given the forward call and hop 1's feedback."""
    user = (
        f"The variable is the {prompt.role_description}:\n"
        f"<VARIABLE>\n{prompt.text or '(empty)'}\n</VARIABLE>\n\n"
        "A conversation with the language model under this system prompt. Its input:\n"
        f"<LM_INPUT>\n{task.format_input(item.example)}\n</LM_INPUT>\n"
        f"Its output, used as the answer to the question:\n<LM_OUTPUT>\n{answer_excerpt(item.output)}\n</LM_OUTPUT>\n\n"
        f"Feedback on this output:\n<OUTPUT_FEEDBACK>\n{response_feedback.strip() or '(none)'}\n</OUTPUT_FEEDBACK>\n\n"
        f"{PROMPT_INSTRUCTION}"
    )
    return ChatRequest.chat(FEEDBACK_SYSTEM, user, temperature=0.0, max_tokens=max_tokens)


def concatenate(feedbacks: Sequence[str]) -> str:
    """`tg.sum`'s reduction: every example's feedback on the prompt, labelled, in batch order."""
    n = len(feedbacks)
    return "\n\n".join(
        f"Feedback on the prompt from example {k} of {n}:\n<EXAMPLE_FEEDBACK>\n{f.strip() or '(none)'}\n"
        "</EXAMPLE_FEEDBACK>"
        for k, f in enumerate(feedbacks, 1)
    )


async def compute_textgrad_gradient(
    client: LLMClient,
    prompt: Prompt,
    task: Task,
    result: EvalResult,
    *,
    critique_max_tokens: int = 200,
    role: str = "backward",
    policy: FeedbackPolicy | None = None,
) -> Gradient:
    """Hop 1 over every example (one concurrent batch), hop 2 over every example (one concurrent
    batch), then the labelled concatenation of hop 2's feedbacks (per-example values masked),
    after the facts head of `policy` (`feedback.compose`); returns the `Gradient`.

    `critiques` holds one hop-2 feedback per example (unmasked), aligned with the batch."""
    policy = policy if policy is not None else FeedbackPolicy()
    items = list(result.results)
    if not items:
        raise ValueError("cannot compute a textual gradient from an empty batch")
    hop1 = await client.complete(
        [response_feedback_request(task, item, critique_max_tokens, policy) for item in items], role=role
    )
    response_feedback = [c.text.strip() for c in hop1]
    hop2 = await client.complete(
        [
            prompt_feedback_request(prompt, task, item, fb, critique_max_tokens)
            for item, fb in zip(items, response_feedback)
        ],
        role=role,
    )
    prompt_feedback = tuple(c.text.strip() for c in hop2)
    values = policy.values(items)
    head = compose(items, policy, (), prompt.text)
    body = concatenate([mask_values(f, values) for f in prompt_feedback])
    return Gradient(
        text="\n\n".join(b for b in (head, body) if b),
        critiques=prompt_feedback,
        batch_score=result.mean,
        sources=batch_sources(items),
        hints=tuple(hints(items, policy)),
        values=values,
        task_facts=policy.task if policy.facts else None,
    )
