"""The unchanged fallback: an optimizer that returns the current prompt (twice) still yields a
candidate that differs from it, built from one new sentence (or a fix hint) appended in code."""

from __future__ import annotations

from optim_helpers import FinishEngine

from dlpo.engines.client import LLMClient
from dlpo.optim.base import Gradient
from dlpo.optim.fallback import SENTENCE_SYSTEM, append_sentence, parse_sentence, problems
from dlpo.optim.optimizer import TextualGradientDescent
from dlpo.optim.techniques import Dropout, LearningRate
from dlpo.optim.variable import Prompt

START = "You will answer a reasoning question. Answer it clearly."
HINT = "Show your working in a few short steps before the final answer line."
GRAD = Gradient(
    text=f"1 of 3 answers were wrong.\n\nSuggested instructions for the prompt:\n- {HINT}\n- Check each step.",
    hints=(HINT,),
    suggestions=("Check each step.",),
    sources=("Question: Tom has 3 apples and buys 4 more.", "7"),
)
UNCHANGED = f"<IMPROVED_VARIABLE>{START}</IMPROVED_VARIABLE>"


def optimizer(sentence_replies, **kw):
    """Update requests always come back unchanged; one-sentence requests get `sentence_replies`."""
    queue = list(sentence_replies)

    def script(request):
        if request.messages[0].content == SENTENCE_SYSTEM:
            return queue.pop(0)
        return UNCHANGED

    engine = FinishEngine(script)
    prompt = Prompt(START)
    prompt.grad = kw.pop("gradient", GRAD)
    return TextualGradientDescent(prompt, LLMClient(engine), **kw), engine


async def test_an_unchanged_reply_gets_one_new_sentence():
    opt, engine = optimizer(["- New sentence: Write each step on its own line"])
    report = await opt.step()
    assert not report.failed and report.accepted
    assert opt.prompt.text == f"{START} Write each step on its own line." != START
    assert [p["reason"].split(":")[0] for p in report.metrics["parse"]] == ["unchanged", "unchanged", "ok"]
    assert report.metrics["fallback"]["method"] == "sentence" and report.metrics["parse_status"] == "fallback"
    ask = engine.requests[-1]
    assert ask.messages[0].content == SENTENCE_SYSTEM and HINT in ask.messages[-1].content  # the top problem
    assert ask.temperature == 0.0 and opt.client.ledger.roles["optimizer"].calls == 3


async def test_a_bad_sentence_is_asked_again_sampled_on_the_next_problem():
    opt, engine = optimizer(["You will answer a reasoning question.", "Check every step twice."])
    report = await opt.step()
    first, second = engine.requests[-2:]
    assert second.temperature > 0 and (first.sample_index, second.sample_index) == (0, 1)
    assert "Check each step." in second.messages[-1].content
    assert opt.prompt.text == f"{START} Check every step twice."
    assert report.metrics["fallback"]["calls"] == 2


async def test_without_usable_sentences_the_fix_hint_is_appended():
    opt, _ = optimizer(["<VARIABLE>", "   "])
    report = await opt.step()
    assert report.metrics["fallback"]["method"] == "hint"
    assert opt.prompt.text == f"{START} {HINT}"


async def test_the_fallback_respects_dropout_and_the_edit_budget():
    opt, _ = optimizer(["Write each step on its own line."], techniques=[Dropout(p=0.5), LearningRate(lr=1)])
    report = await opt.step()
    assert (
        not report.failed and report.metrics["edits_final"] == 1 and report.metrics["dropout_violations"] == 0
    )
    assert opt.prompt.text.startswith(START)


async def test_the_fallback_can_be_switched_off_and_other_failures_do_not_trigger_it():
    opt, _ = optimizer([], unchanged_fallback=False)
    report = await opt.step()
    assert report.failed and "fallback" not in report.metrics
    missing = FinishEngine(lambda request: "I would rather not.")
    prompt = Prompt(START)
    prompt.grad = GRAD
    report = await TextualGradientDescent(prompt, LLMClient(missing)).step()
    assert report.failed and "fallback" not in report.metrics and len(missing.requests) == 2


def test_helpers():
    assert parse_sentence("1. Reply with the label only") == "Reply with the label only."
    assert parse_sentence("<IMPROVED_VARIABLE>x") is None and parse_sentence("") is None
    assert append_sentence("Answer it", "Be brief.") == "Answer it. Be brief."
    assert append_sentence("", "Be brief.") == "Be brief."
    assert problems(GRAD) == [HINT, "Check each step."]
    assert problems(Gradient(text="The prompt should ask for steps.")) == ["The prompt should ask for steps."]


def test_a_reply_to_the_user_is_not_an_instruction():
    assert parse_sentence("Please provide the reasoning question for me to work on.") is None
    assert parse_sentence("Sure, here it is") is None and parse_sentence("What is the question?") is None
    assert parse_sentence("Check each number twice.") == "Check each number twice."


async def test_an_unstated_task_convention_comes_first_and_costs_no_call():
    from dataclasses import replace

    from dlpo.tasks.conventions import TaskFacts

    labels = ("refund-request", "double-charge", "other")
    facts = TaskFacts(
        "label",
        labels,
        (
            "The answer is exactly one of these labels, spelled exactly as written: "
            + ", ".join(f"'{label}'" for label in labels)
            + ".",
            "Write the label only, with no other words.",
        ),
        whole_reply=True,
    )
    opt, _ = optimizer([], gradient=replace(GRAD, task_facts=facts))
    report = await opt.step()
    assert report.metrics["fallback"]["method"] == "convention" and not report.failed
    assert opt.prompt.text.startswith(START) and all(label in opt.prompt.text for label in labels)
    assert opt.client.ledger.roles["optimizer"].calls == 2  # the update and its re-ask: no sentence request
    assert facts.unstated(opt.prompt.text) == ["Write the label only, with no other words."]


def test_whole_reply_tasks_get_reply_hints_not_answer_line_hints():
    from dlpo.evaluation import ExampleResult
    from dlpo.optim.facts import fix_hints, observations
    from dlpo.tasks.base import Example, Score
    from dlpo.tasks.conventions import TaskFacts

    facts = TaskFacts("label", ("refund-request", "other"), (), whole_reply=True)
    item = ExampleResult(
        Example("e", "I want my money back.", "refund-request"),
        "The customer is asking for a refund-request of their order.",
        Score(0.0, "The customer is asking for a refund-request of their order", "replied ...: contains ..."),
        "length",
    )
    assert set(fix_hints([item], facts)) == {
        "Keep the reply short: the answer only, with no explanation.",
        "Reply with the label only, with no other words.",
    }
    assert not any("Answer:" in o for o in observations(item, facts))


LABELS = ("refund-request", "double-charge", "other")
FACTS_LINES = (
    "The answer is exactly one of these labels, spelled exactly as written: "
    + ", ".join(f"'{label}'" for label in LABELS)
    + ".",
    "Write the label only, with no other words.",
)


def label_facts():
    from dlpo.tasks.conventions import TaskFacts

    return TaskFacts("label", LABELS, FACTS_LINES, whole_reply=True)


async def test_a_candidate_that_leaves_the_conventions_out_gets_them_added():
    from dataclasses import replace

    from optim_helpers import FinishEngine

    new = f"{START} Read the message twice."
    engine = FinishEngine(lambda r: f"<IMPROVED_VARIABLE>{new}</IMPROVED_VARIABLE>")
    prompt = Prompt(START)
    prompt.grad = replace(GRAD, task_facts=label_facts())
    opt = TextualGradientDescent(prompt, LLMClient(engine), update_format="tags")
    report = await opt.step()
    assert report.accepted and report.metrics["conventions_added"] == 2
    assert opt.prompt.text.startswith(new) and all(line in opt.prompt.text for line in FACTS_LINES)
    # under `feedback: plain` the gradient carries no conventions: nothing is added
    prompt2 = Prompt(START)
    prompt2.grad = GRAD
    opt2 = TextualGradientDescent(
        prompt2,
        LLMClient(FinishEngine(lambda r: f"<IMPROVED_VARIABLE>{new}</IMPROVED_VARIABLE>")),
        update_format="tags",
    )
    await opt2.step()
    assert opt2.prompt.text == new


async def test_a_sentence_copied_from_the_request_is_rejected_and_reasked():
    from optim_helpers import FinishEngine

    from dlpo.optim.techniques.learning_rate import LearningRate

    copied = f"{START} Rule A, stated more precisely."
    good = f"{START} Read the message twice."
    replies = [copied, good]
    engine = FinishEngine(lambda r: f"<IMPROVED_VARIABLE>{replies.pop(0)}</IMPROVED_VARIABLE>")
    prompt = Prompt(START)
    prompt.grad = GRAD
    opt = TextualGradientDescent(
        prompt, LLMClient(engine), techniques=[LearningRate()], lr=2, update_format="tags"
    )
    report = await opt.step()
    reasons = [p["reason"] for p in report.metrics["parse"]]
    assert reasons[0].startswith("copied from the request") and reasons[1] == "ok"
    assert opt.prompt.text == good
