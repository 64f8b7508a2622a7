"""The feedback switch (`facts` | `plain`) is built the same way for every method, and what the
optimizer sees has per-example values masked for every answer kind (numbers, labels, choices,
free text), under both settings."""

from __future__ import annotations

import re

import pytest

from dlpo.baselines import apo_prompts
from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.engines.scripted import ScriptedEngine
from dlpo.evaluation import EvalResult, ExampleResult
from dlpo.optim.feedback import FeedbackPolicy, compose, merge
from dlpo.optim.gradient import compute_gradient
from dlpo.optim.parsing import SUGGESTIONS_HEADER
from dlpo.optim.textgrad_gradient import compute_textgrad_gradient
from dlpo.optim.variable import Prompt
from dlpo.tasks.base import Example, Task
from dlpo.tasks.conventions import CONVENTIONS_HEADER, task_facts
from dlpo.tasks.scoring import make_scorer

PROMPT = "Answer the question."
# kind -> (scorer, train targets, batch of (question, target, model output))
KINDS = {
    "number": (
        "numeric",
        ["27", "12", "6", "41"],
        [
            ("Jack is 15. Ivy is 7 years older. How old will Ivy be in 5 years?", "27", "Answer: 22"),
            ("A box holds 36 eggs and 24 break. How many are left?", "12", "Answer: 60"),
        ],
    ),
    "label": (
        "exact",
        ["valid", "invalid"] * 3,
        [
            ("All cats are grey. Tom is a cat. So Tom is not grey.", "invalid", "Answer: valid"),
            ("All men are mortal. Sam is a man. So Sam is mortal.", "valid", "Answer: invalid"),
        ],
    ),
    "choice": (
        "choice",
        ["(A)", "(B)", "(C)"],
        [
            ("Which is a fruit? (A) car (B) pear (C) stone", "(B)", "Answer: (C)"),
            ("Which is blue? (A) sky (B) grass (C) coal", "(A)", "Answer: (B)"),
        ],
    ),
    "text": (
        "exact",
        ["apple pear", "kiwi lime", "fig plum date", "nut oat"],
        [
            ("Sort these words: pear apple", "apple pear", "Answer: pear apple"),
            ("Sort these words: lime kiwi", "kiwi lime", "Answer: lime kiwi"),
        ],
    ),
}


def make(kind: str) -> tuple[Task, EvalResult]:
    scorer_name, targets, batch = KINDS[kind]
    scorer = make_scorer(scorer_name)
    train = [Example(f"t{k}", f"train question {k}", t) for k, t in enumerate(targets)]
    task = Task(kind, train, [], [], scorer, answer_instruction="End with 'Answer: <answer>'.")
    items = tuple(
        ExampleResult(Example(f"b{k}", q, t), out, scorer(out, t)) for k, (q, t, out) in enumerate(batch)
    )
    assert not any(i.score.correct for i in items)
    return task, EvalResult(items)


def _value(user: str, label: str) -> str:
    found = re.search(rf"{label}: (.*)", user)
    return found.group(1).strip() if found else "?"


def backward(request: ChatRequest) -> str:
    """Critiques and feedback that quote the example's expected and found answers."""
    user = request.messages[-1].content
    if "<OUTPUT_FEEDBACK>" in user:  # textgrad hop 2
        got = _value(user, "<LM_OUTPUT>\nAnswer")
        return f"The model answered {got}. Tell the model to check its work on every question."
    if "<QUESTION>" in user and "Result:" in user:  # textgrad hop 1
        return f"The expected answer was {_value(user, 'Expected answer')}; the response was wrong."
    if "<SUGGESTIONS>" in user:  # dlpo's reduction
        return "- Check every part of the question before answering.\n- Read the question twice."
    target = _value(user, r"Expected answer \(given and correct\)")
    return f"- Answer {target} for questions like this.\n- Check every part of the question before answering."


def values_of(result: EvalResult) -> list[str]:
    out = []
    for item in result.results:
        out += [item.example.target, item.score.answer or ""]
    return [v for v in out if v]


def found(value: str, text: str) -> bool:
    if re.fullmatch(r"\(\w\)", value):
        return value in text
    return bool(re.search(rf"(?<![\w.]){re.escape(value)}(?![\w])", text, re.IGNORECASE))


def prose(text: str) -> str:
    """The text without the task conventions block (which may name the label set)."""
    return re.sub(rf"{re.escape(CONVENTIONS_HEADER)}\n(?:- .*\n?)*", "", text)


def suggestion_lines(text: str) -> list[str]:
    tail = text.split(SUGGESTIONS_HEADER, 1)[1] if SUGGESTIONS_HEADER in text else ""
    return [ln[2:] for ln in tail.splitlines() if ln.startswith("- ")]


async def gradients(task: Task, result: EvalResult, policy: FeedbackPolicy):
    engine = ScriptedEngine(backward)
    client = LLMClient(engine)
    dlpo = await compute_gradient(client, Prompt(PROMPT), task, result, policy=policy)
    textgrad = await compute_textgrad_gradient(client, Prompt(PROMPT), task, result, policy=policy)
    errors = list(result.results)
    apo_edit = apo_prompts.edit_request(PROMPT, task, errors, "the prompt is vague", 1, 100, policy)
    apo_grad = apo_prompts.gradient_request(PROMPT, task, errors, 1, 100, policy)
    return dlpo, textgrad, apo_edit.messages[-1].content, apo_grad.messages[-1].content, engine


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("mode", ["facts", "plain"])
async def test_every_method_builds_its_feedback_the_same_way(kind, mode):
    task, result = make(kind)
    policy = FeedbackPolicy(mode, task_facts(task))
    dlpo, textgrad, apo_edit, apo_grad, engine = await gradients(task, result, policy)
    head = compose(result.results, policy)
    assert dlpo.text.startswith(head) and textgrad.text.startswith(head)
    assert head in apo_edit and head in apo_grad
    critic_users = [r.messages[-1].content for r in engine.requests]
    reasons = [i.score.reason for i in result.results]
    if mode == "facts":
        assert CONVENTIONS_HEADER in head and "answers were wrong" in head
        for text in (dlpo.text, textgrad.text, apo_edit, apo_grad):
            assert CONVENTIONS_HEADER in text
        # the backward model is told what went wrong, by every method
        assert sum("What went wrong:" in u for u in critic_users) >= 2 * len(reasons)
        assert apo_grad.count("Expected:") == len(reasons) and "Prediction:" not in apo_grad
    else:
        assert head == ""
        for text in (dlpo.text, textgrad.text, apo_edit, apo_grad):
            assert CONVENTIONS_HEADER not in text and "answers were wrong" not in text
            assert not any(r in text for r in reasons)
        assert not any("What went wrong" in u for u in critic_users)
        assert apo_grad.count("Label:") == len(reasons) and apo_grad.count("Prediction:") == len(reasons)
        assert dlpo.hints == () and textgrad.hints == ()


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("mode", ["facts", "plain"])
async def test_the_optimizer_never_sees_an_examples_answer(kind, mode):
    task, result = make(kind)
    facts = task_facts(task)
    policy = FeedbackPolicy(mode, facts)
    dlpo, textgrad, apo_edit, apo_grad, _ = await gradients(task, result, policy)
    labels = {label.casefold() for label in facts.labels}
    for value in values_of(result):
        for text in (dlpo.text, textgrad.text):
            lines = suggestion_lines(text)
            rest = "\n".join(ln for ln in prose(text).splitlines() if ln[2:] not in lines)
            assert not found(value, rest), (value, rest)
            if value.casefold() not in labels:  # a label of the task may be named in an instruction
                assert not any(found(value, ln) for ln in lines), (value, lines)
        edit_examples = apo_edit.split("## Example 1", 1)[1]
        for item in result.results:  # the questions are shown (a candidate that pastes one is rejected)
            edit_examples = edit_examples.replace(task.format_input(item.example), "")
        assert not found(value, edit_examples), (value, edit_examples)
    # the critique requests (backward) do see the values
    assert all(i.example.target in apo_grad for i in result.results)


def test_fix_hints_never_crowd_out_the_critic():
    hints = ["h1", "h2", "h3", "h4"]
    critic = ["c1", "c2", "c3"]
    assert merge(hints, critic) == ["h1", "h2", "c1", "c2"]
    assert merge([], critic) == critic
    assert merge(["h1"], ["c1", "c2", "c3", "c4"]) == ["h1", "c1", "c2", "c3"]
    assert merge(hints, ["h1", "c1"]) == ["h1", "h2", "c1"]  # no duplicates


def test_policy_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="facts, plain"):
        FeedbackPolicy("loud")  # type: ignore[arg-type]
