"""Fix hints and observations follow the task's answer kind: no arithmetic hints on a label task,
the value-only and label-only hints for answers with extra words, and `answer_in_working` only on
a real match."""

from __future__ import annotations

from dlpo.evaluation import ExampleResult
from dlpo.optim.facts import HINTS, KIND_HINTS, OBSERVED, fix_hints, observation_keys
from dlpo.optim.feedback import FeedbackPolicy, hints
from dlpo.tasks.base import Example, Score
from dlpo.tasks.conventions import TaskFacts
from dlpo.tasks.scoring import make_scorer

LABEL = TaskFacts("label", ("billing", "account-access", "shipping"), ())
NUMBER = TaskFacts("number", (), ())
ARITHMETIC = (HINTS["bare_answer"], HINTS["answer_first"], HINTS["answer_in_working"], HINTS["cut_off"])


def scored(output: str, target: str, scorer: str = "exact", finish: str = "stop") -> ExampleResult:
    return ExampleResult(Example("e", "q", target), output, make_scorer(scorer)(output, target), finish)


def test_no_arithmetic_hints_on_a_label_task():
    batch = [
        scored("Answer: shipping", "billing"),  # a bare label is the expected form, not a failure
        scored("Answer: The category is billing.", "billing"),
        scored(
            "Answer: billing\nBecause the customer was charged twice for one order, as they say.", "billing"
        ),
        scored(" ".join(["the customer writes about an order"] * 12), "billing", finish="length"),
        scored("I think it is about billing.", "billing"),
    ]
    found = fix_hints(batch, LABEL)
    assert found and not set(found) & set(ARITHMETIC)
    assert not any("working" in h or "number" in h or "LaTeX" in h for h in found)
    assert KIND_HINTS["label"]["extra_words"] in found  # "the label only"
    assert all("bare_answer" not in observation_keys(i, LABEL) for i in batch)


def test_the_value_only_hint_for_a_number_with_units():
    item = scored(
        "We need 4 cups in total.\nAnswer: 4 cups", "4"
    )  # exact-match scoring of a numeric file task
    assert item.score.value == 0.0
    assert "extra_words" in observation_keys(item, NUMBER)
    assert (
        fix_hints([item], NUMBER)[0]
        == HINTS["extra_words"]
        == ("After `Answer:`, write the value only, with no units or words.")
    )


def test_the_label_only_hint_for_a_sentence_instead_of_a_label():
    item = scored("Answer: This message is about account-access problems", "account-access")
    assert observation_keys(item, LABEL) == ["extra_words"]
    assert fix_hints([item], LABEL) == [KIND_HINTS["label"]["extra_words"]]
    assert "label only" in KIND_HINTS["label"]["extra_words"]


def test_answer_in_working_needs_a_real_match():
    # the short target '3' merely appears as '3 apples' in the working: not a match
    chance = scored("Tom has 3 apples and buys 5 more, so he has 8 apples.\nAnswer: 8", "3", "numeric")
    assert "answer_in_working" not in observation_keys(chance, NUMBER)
    # the working's final '= result' is the target: a match, even for a one-digit target
    equals = scored("Each gets 12 / 4 = 3 cookies.\nAnswer: 4", "3", "numeric")
    assert "answer_in_working" in observation_keys(equals, NUMBER)
    # a two-digit target as a whole number at the end of the working: a match
    late = scored("15 + 7 = 22 now, and in 5 years she will be 27 years old.\nAnswer: 22", "27", "numeric")
    assert "answer_in_working" in observation_keys(late, NUMBER)
    # ... but not inside a bigger number, and not early in a long working
    inside = scored("The total is 270 in all.\nAnswer: 22", "27", "numeric")
    assert "answer_in_working" not in observation_keys(inside, NUMBER)
    early = scored(
        "27 people came first. " + " ".join(["Then more arrived and some left again."] * 6) + "\nAnswer: 22",
        "27",
        "numeric",
    )
    assert "answer_in_working" not in observation_keys(early, NUMBER)


def test_labels_never_get_answer_in_working():
    item = scored("It mentions billing, but it is about shipping.\nAnswer: shipping", "billing")
    assert "answer_in_working" not in observation_keys(item, LABEL)


def test_choice_and_math_hints():
    choice = TaskFacts("choice", (), ())
    several = scored("Answer: (A) or (B)", "(B)", "choice")
    assert fix_hints([several], choice) == [KIND_HINTS["choice"]["several options after `Answer:`"]]
    math = TaskFacts("math", (), ())
    unboxed = scored("So the answer is 1/2.", "\\frac{1}{2}", "math")
    assert fix_hints([unboxed], math) == [KIND_HINTS["math"]["no \\boxed{} answer"]]
    assert HINTS["boxed"] not in fix_hints([unboxed], math)  # never "do not use \\boxed" on MATH


def test_the_feedback_policy_caps_hints_at_two():
    batch = [
        scored(
            "Answer: 22\n" + "Ivy is 15 + 7 = 22 years old now, so in 5 years she will be 27 years old.",
            "27",
            "numeric",
        ),
        scored("So it is \\boxed{27}.", "27", "numeric"),
        scored("Answer: 3 or 4", "27", "numeric"),
        scored("Answer: 5", "27", "numeric"),
    ]
    assert len(fix_hints(batch, NUMBER)) > 2
    assert len(hints(batch, FeedbackPolicy("facts", NUMBER))) == 2
    assert hints(batch, FeedbackPolicy("plain", NUMBER)) == []


def test_observations_name_extra_words():
    assert "extra words" in OBSERVED["extra_words"]
    right = ExampleResult(Example("e", "q", "4"), "Answer: 4", Score(1.0, "4", "correct"))
    assert fix_hints([right], NUMBER) == []


def test_a_critic_line_that_contradicts_the_conventions_is_dropped():
    from dlpo.optim.facts import clean_suggestions

    item = scored("Answer: 4 cups", "4")
    reply = "- Include the units in the answer.\n- Write the value with no units.\n- Show each step."
    kept = clean_suggestions(reply, [item], facts=NUMBER)
    assert kept == ["Write the value with no units.", "Show each step."]
    assert len(clean_suggestions(reply, [item])) == 3  # without task facts (plain) nothing is dropped
