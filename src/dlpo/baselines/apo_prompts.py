"""APO/ProTeGi's three backward-model requests, and the parsing of their replies.

Written after Pryzant et al. (2023, arXiv 2305.03495, §2): a *gradient* request lists errors of
the current prompt and asks for reasons; an *edit* request applies one reason to the prompt; a
*paraphrase* request (Monte-Carlo successor) rewords a prompt keeping its meaning. Every item of a
reply is wrapped in <START> ... <END>, as in the paper. Small models often forget the tags, so a
tagless reply is used whole (first paragraph, labels stripped) when it is plausible.

The error strings (`error_block`) follow the run's feedback switch like every method's
(`dlpo.optim.feedback`): under `facts` they start with the same facts block, task conventions and
fix hints as the textual gradient and each example says what went wrong; under `plain` each example
is text, label and prediction, as in the released code. The edit request writes a prompt, so its
error strings have the batch's per-example values masked (`dlpo.optim.masking`); the gradient
request (a critique) shows them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dlpo.engines.base import ChatRequest
from dlpo.evaluation import ExampleResult
from dlpo.optim.feedback import FeedbackPolicy, compose, what_went_wrong
from dlpo.optim.gradient import answer_excerpt
from dlpo.optim.masking import mask_values
from dlpo.optim.parsing import has_repetition_loop
from dlpo.tasks.base import Task

SYSTEM = "You improve system prompts for language models. Follow the requested output format exactly."

GRADIENT = (
    'I am writing a system prompt for a language model. My current prompt is:\n"{prompt}"\n\n'
    "But this prompt gets the following examples wrong:\n{errors}\n\n"
    "Give {n} reasons why the prompt could have gotten these examples wrong. "
    "Wrap each reason with <START> and <END>."
)
EDIT = (
    'I am writing a system prompt for a language model. My current prompt is:\n"{prompt}"\n\n'
    "But it gets the following examples wrong:\n{errors}\n\n"
    "Based on these examples the problem with this prompt is that {gradient}\n\n"
    "Based on the above information, write {n} different improved prompts. Each prompt is a general "
    "instruction to the model (no specific question or answer in it) and is wrapped with <START> and "
    "<END>.\n\nThe {n} new prompts are:"
)
PARAPHRASE = (
    "Generate a variation of the following instruction while keeping the semantic meaning. "
    "Wrap the new instruction with <START> and <END>.\n\nInput: {prompt}\n\nOutput:"
)

_ITEM = re.compile(r"<\s*START\s*>(.*?)(?:<\s*/?\s*END\s*>|$)", re.IGNORECASE | re.DOTALL)
_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:output|new prompt|prompt|reason|improved prompt)\s*\d*\s*:\s*(?:\*\*)?\s*",
    re.IGNORECASE,
)


def error_block(
    task: Task, errors: Sequence[ExampleResult], policy: FeedbackPolicy | None = None, *, masked: bool = False
) -> str:
    """The error strings of the gradient and edit requests, the only place they are built. `policy`
    (default `facts`) is the run's feedback switch; `masked` hides the batch's per-example values
    (the edit request's view)."""
    policy = policy if policy is not None else FeedbackPolicy()
    values = policy.values(errors)

    def shown(text: str) -> str:
        return mask_values(text, values) if masked else text

    parts = [head] if (head := compose(errors, policy)) else []  # masked by construction
    for k, item in enumerate(errors, start=1):
        reply = shown(answer_excerpt(item.output, max_words=80, head=50, tail=25))
        target = shown(item.example.target)
        if policy.facts:
            wrong = shown(what_went_wrong(item, policy))
            parts.append(
                f"## Example {k}\nText: {task.format_input(item.example)}\n"
                f"Model answer: {reply}\nExpected: {target} ({wrong})"
            )
        else:
            found = shown(item.score.answer) if item.score.answer is not None else "(none)"
            parts.append(
                f"## Example {k}\nText: {task.format_input(item.example)}\nLabel: {target}\nPrediction: {found}"
            )
    return "\n\n".join(parts)


def gradient_request(
    prompt: str,
    task: Task,
    errors: Sequence[ExampleResult],
    n: int,
    max_tokens: int,
    policy: FeedbackPolicy | None = None,
) -> ChatRequest:
    """A critique of the prompt: it sees the errors whole."""
    user = GRADIENT.format(prompt=prompt, errors=error_block(task, errors, policy), n=n)
    return ChatRequest.chat(SYSTEM, user, temperature=0.0, max_tokens=max_tokens)


def edit_request(
    prompt: str,
    task: Task,
    errors: Sequence[ExampleResult],
    gradient: str,
    n: int,
    max_tokens: int,
    policy: FeedbackPolicy | None = None,
) -> ChatRequest:
    """A prompt-writing request: the errors and the reason with per-example values masked."""
    policy = policy if policy is not None else FeedbackPolicy()
    reason = mask_values(gradient.strip(), policy.values(errors))
    user = EDIT.format(
        prompt=prompt, errors=error_block(task, errors, policy, masked=True), gradient=reason, n=n
    )
    return ChatRequest.chat(SYSTEM, user, temperature=0.0, max_tokens=max_tokens)


def paraphrase_request(prompt: str, max_tokens: int, sample_index: int, seed: int) -> ChatRequest:
    """Monte-Carlo successors are sampled (temperature 0.7); `sample_index` tells them apart."""
    user = PARAPHRASE.format(prompt=prompt)
    return ChatRequest.chat(
        SYSTEM,
        user,
        temperature=0.7,
        max_tokens=max_tokens,
        seed=seed + sample_index,
        sample_index=sample_index,
    )


# Phrases of our own requests: a small model that echoes the request is not proposing a prompt.
_ECHO = re.compile(
    r"my current prompt is|your current prompt is|gets the following examples wrong|generate a variation of"
    r"|wrap each (?:reason|prompt|new instruction) with|<\s*/?\s*START\s*>",
    re.IGNORECASE,
)


def _clean(item: str) -> str:
    text = _LABEL.sub("", item.strip()).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def parse_items(
    reply: str, finish_reason: str = "stop", limit: int | None = None, keep_truncated: bool = False
) -> list[str]:
    """The <START>...<END> items of a reply (an unclosed last item counts unless the reply was cut
    off). Without tags, the reply's first paragraph is one item. Empty and looping items are dropped.
    `keep_truncated` keeps a cut-off item (fine for a reason, not for a prompt)."""
    items = [m.group(1) for m in _ITEM.finditer(reply)]
    cut = finish_reason == "length" and not keep_truncated
    if items and cut and not re.search(r"<\s*/?\s*END\s*>\s*$", reply.strip()):
        items = items[:-1]  # the last item was cut off mid-way
    if not items and not cut:
        first = reply.strip().split("\n\n")[0]
        items = [first] if first else []
    out = []
    for item in items:
        text = _clean(item)
        if text and not has_repetition_loop(text) and not _ECHO.search(text) and text not in out:
            out.append(text)
    return out[:limit] if limit is not None else out
