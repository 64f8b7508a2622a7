"""Tables of tricky model outputs per answer type, each with the expected score and reason."""

from __future__ import annotations

import pytest

from dlpo.errors import ConfigError
from dlpo.tasks.scoring import SCORER_NAMES, make_scorer

NUMERIC = [
    # (output, target, score, reason substring)
    ("Answer: 18", "18", 1, "correct: answered 18"),
    ("", "18", 0, "empty reply"),
    ("Janet makes 18 dollars a day.", "18", 0, "no `Answer:` line (the last number in the reply is 18)"),
    (
        "16 - 3 - 4 = 9, 9 * 2 = 18. So \\boxed{18}",
        "18",
        0,
        "no `Answer:` line (the reply ends with \\boxed{18}",
    ),
    ("Answer: forty-two", "42", 0, "no number after `Answer:`"),
    ("Answer: 42", "48", 0, "answered 42, expected 48"),
    ("Answer: 42 or 48", "48", 0, "several numbers after `Answer:` (42, 48)"),
    ("First Answer: 40\nOn reflection...\nAnswer: 48", "48", 1, "correct"),
    ("Answer: 48\nWait, actually\nAnswer: 40", "48", 0, "answered 40, expected 48"),
    ("Answer: $1,234.", "1234", 1, "answered 1234"),
    ("Answer: 1,234,567 people", "1234567", 1, "correct"),
    ("Answer: -5 degrees", "-5", 1, "answered -5"),
    ("Answer: 5", "-5", 0, "answered 5, expected -5"),
    ("Answer: −5", "-5", 1, "correct"),  # Unicode minus sign
    ("Answer: 12.50", "12.5", 1, "answered 12.5"),
    ("Answer: 12.5", "12", 0, "answered 12.5, expected 12"),
    ("Answer: 18.00 dollars", "18", 1, "correct"),
    ("**Answer:** 18", "18", 1, "correct"),
    ("Final answer: $18$", "18", 1, "correct"),
    ("Answer:\n\n18", "18", 1, "correct"),
    ("Answer: 6 * 3 = 18", "18", 1, "correct"),
    ("Answer: 150 (3 boxes of 50)", "150", 1, "correct"),
    ("Answer: 25%", "25", 1, "correct"),
    ("Answer: 3/4", "0.75", 1, "correct"),
    ("Answer: ১৮", "18", 1, "correct"),  # Bengali digits (MGSM)
    ("Antwort: 18\nAnswer：18", "18", 1, "correct"),  # full-width colon
    ("Answer: 1234567890123456", "1234567890123456", 1, "correct"),
    (
        "Answer: 1234567890123457",
        "1234567890123456",
        0,
        "answered 1234567890123457, expected 1234567890123456",
    ),
    ("Answer: 9999999999999999", "10000000000000000", 0, "expected 10000000000000000"),  # equal as floats
]


@pytest.mark.parametrize(("output", "target", "value", "reason"), NUMERIC)
def test_numeric_table(output: str, target: str, value: int, reason: str) -> None:
    score = make_scorer("numeric")(output, target)
    assert (score.value, reason in score.reason) == (value, True), score


CHOICE = [
    ("Answer: (B)", "(B)", 1, "correct: chose (B)"),
    ("Answer: (B)", "(D)", 0, "chose (B), expected (D)"),
    ("answer: B) blue", "(B)", 1, "correct"),
    ("Answer: B", "(B)", 1, "correct"),
    ("Answer: Option C", "(C)", 1, "correct"),
    ("Answer: (A) or (B)", "(A)", 0, "several options after `Answer:` ((A), (B))"),
    ("Answer: the red one", "(A)", 0, "no option letter after `Answer:`"),
    ("The correct option is (B).", "(B)", 0, "no `Answer:` line"),
    ("Answer: (A) Monsters", "Monsters, Inc", 0, "expected the option 'Monsters, Inc'"),
    ("Answer: Monsters, Inc.", "Monsters, Inc", 1, "correct"),
    ("Answer: (I) dearth, wind, & fire", "dearth, wind, & fire", 1, "correct"),
    (
        "Answer: (D) sue and bob poo",
        "rita, sue and bob poo",
        0,
        "expected the option 'rita, sue and bob poo'",
    ),
]


@pytest.mark.parametrize(("output", "target", "value", "reason"), CHOICE)
def test_choice_table(output: str, target: str, value: int, reason: str) -> None:
    score = make_scorer("choice")(output, target)
    assert (score.value, reason in score.reason) == (value, True), score


LABEL = [
    ("Answer: Yes", "Yes", 1, "correct: answered Yes"),
    ("Answer: yes", "Yes", 1, "correct"),
    ("Answer: No, it is not", "Yes", 0, "answered No, expected Yes"),
    ("Answer: TRUE", "True", 1, "correct"),
    ("Answer: False", "True", 0, "answered False, expected True"),
    ("Answer: the argument is invalid", "valid", 0, "answered invalid, expected valid"),
    ("Answer: valid", "valid", 1, "correct"),
    ("Answer: maybe", "no", 0, "no yes/no after `Answer:`"),
    ("Yes.", "Yes", 0, "no `Answer:` line"),
]


@pytest.mark.parametrize(("output", "target", "value", "reason"), LABEL)
def test_label_table(output: str, target: str, value: int, reason: str) -> None:
    score = make_scorer("label")(output, target)
    assert (score.value, reason in score.reason) == (value, True), score


EXACT = [
    ("exact", "Answer: apple banana cherry", "apple banana cherry", 1, "correct"),
    ("exact", "Answer:   apple  banana cherry.", "apple banana cherry", 1, "correct"),
    ("exact", "Answer: `apple banana cherry`", "apple banana cherry", 1, "correct"),
    (
        "exact",
        "Answer: apple cherry banana",
        "apple banana cherry",
        0,
        "answered 'apple cherry banana', expected",
    ),
    ("exact", "apple banana cherry", "apple banana cherry", 0, "no `Answer:` line"),
    ("exact", "Answer:", "a", 0, "nothing after `Answer:`"),
    ("exact-nospace", "Answer: )]}", ") ] }", 1, "correct"),
    ("exact-nospace", "Answer: ) ]", ") ] }", 0, "expected ') ] }'"),
    ("exact", "Answer: )]}", ") ] }", 0, "expected"),
]


@pytest.mark.parametrize(("scorer", "output", "target", "value", "reason"), EXACT)
def test_exact_table(scorer: str, output: str, target: str, value: int, reason: str) -> None:
    score = make_scorer(scorer)(output, target)
    assert (score.value, reason in score.reason) == (value, True), score


MATH = [
    ("so the answer is \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}", 1, "correct"),
    ("\\boxed{\\dfrac{1}{2}}", "\\frac{1}{2}", 1, "correct"),
    ("\\boxed{\\frac12}", "\\frac{1}{2}", 1, "correct"),
    ("\\boxed{0.5}", "\\frac{1}{2}", 1, "correct"),  # sympy
    ("\\boxed{2\\sqrt{2}}", "\\sqrt{8}", 1, "correct"),  # sympy
    ("\\boxed{\\frac{1}{3}}", "\\frac{1}{2}", 0, "answered \\frac{1}{3}, expected \\frac{1}{2}"),
    ("\\boxed{\\frac{12}{3}}", "\\frac{1}{23}", 0, "expected"),  # braces kept (the reference strips them)
    ("First \\boxed{3}, finally \\boxed{5}", "5", 1, "correct"),
    ("First \\boxed{5}, finally \\boxed{3}", "5", 0, "answered 3, expected 5"),
    ("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "\\left( 3, \\frac{\\pi}{2} \\right)", 1, "correct"),
    ("\\boxed{(3, \\frac{\\pi}{2})}", "(\\frac{\\pi}{2}, 3)", 0, "expected"),
    ("\\boxed{x = 5}", "5", 1, "correct"),
    ("\\boxed{90^\\circ}", "90", 1, "correct"),
    ("\\boxed{\\text{Monday}}", "\\text{Monday}", 1, "correct"),
    ("The answer is 5.", "5", 0, "no \\boxed{} answer"),
    ("\\boxed{5", "5", 0, "no \\boxed{} answer"),  # unclosed
]


@pytest.mark.parametrize(("output", "target", "value", "reason"), MATH)
def test_math_table(output: str, target: str, value: int, reason: str) -> None:
    score = make_scorer("math")(output, target)
    assert (score.value, reason in score.reason) == (value, True), score


REFERENCE = [
    # reference:gsm8k: last or first digit run, or the DSPy parse
    ("reference:gsm8k", "The answer is 18.", "18", 1, "lenient match"),
    ("reference:gsm8k", "18 eggs minus 7 gives 11 left", "18", 1, "first number 18"),
    ("reference:gsm8k", "\\boxed{18}", "18", 1, "lenient match"),
    ("reference:gsm8k", "I get 12 and 15, then 20", "15", 0, "answered 20, expected 15"),
    ("reference:gsm8k", "Answer: -5", "-5", 0, "expected -5"),  # signs dropped: negatives never match
    ("reference:gsm8k", "Answer: 1,234", "1234", 1, "lenient match"),
    ("reference:gsm8k", "no digits at all", "0", 1, "lenient match"),  # DSPy parse falls back to 0
    ("reference:gsm8k", "nothing here", "5", 0, "no number in the reply"),
    # reference:mgsm: DSPy parse, last run, or any of the last 4 runs
    ("reference:mgsm", "I get 12 and 15, then 20 and 30", "15", 1, "among the last 4"),
    ("reference:mgsm", "1 2 3 4 5 6", "2", 0, "expected 2"),
    ("reference:mgsm", "18 then 19", "18", 1, "among the last 4"),
    ("reference:mgsm", "Answer: 12.5", "12", 1, "lenient match"),  # decimals cut
    # reference:math: spaces and braces stripped; last, second-to-last or first box
    ("reference:math", "\\boxed{\\frac{1}{2}}", "\\frac12", 1, "lenient match"),
    ("reference:math", "\\boxed{1} \\boxed{2} \\boxed{3}", "2", 1, "lenient match"),
    ("reference:math", "\\boxed{1} \\boxed{2} \\boxed{3}", "1", 1, "lenient match"),
    ("reference:math", "\\boxed{0.5}", "\\frac{1}{2}", 0, "lenient rule"),  # no equivalence
    ("reference:math", "no box", "1", 0, "no \\boxed{} answer"),
]


@pytest.mark.parametrize(("scorer", "output", "target", "value", "reason"), REFERENCE)
def test_reference_table(scorer: str, output: str, target: str, value: int, reason: str) -> None:
    score = make_scorer(scorer)(output, target)
    assert (score.value, reason in score.reason) == (value, True), score


def test_strict_and_lenient_disagree_on_the_same_output() -> None:
    output = "Step by step: 16 - 3 - 4 = 9 eggs, 9 * 2 = 18 dollars. \\boxed{18}"
    assert make_scorer("numeric")(output, "18").value == 0
    assert make_scorer("reference:gsm8k")(output, "18").value == 1


def test_scorer_names_and_unknown_scorer() -> None:
    for name in SCORER_NAMES:
        assert make_scorer(name).name == name
    with pytest.raises(ConfigError, match="unknown scorer 'fuzzy'; choose one of: numeric"):
        make_scorer("fuzzy")


def test_answers_are_reported_for_the_gradient() -> None:
    score = make_scorer("numeric")("Answer: 42", "48")
    assert score.answer == "42" and not score.correct
    assert make_scorer("choice")("Answer: (C)", "(C)").answer == "(C)"


def test_math_equivalence_never_evaluates_code() -> None:
    from dlpo.tasks.scoring.boxed import sympy_equal

    assert sympy_equal("\\frac{1}{2}", "0.5")
    assert not sympy_equal("__import__('os').getcwd()", "1")
    assert not sympy_equal("exp(1)", "e")  # multi-letter names other than sqrt/pi are refused
    score = make_scorer("math")("\\boxed{__import__('os').system('false')}", "0")
    assert score.value == 0 and "expected 0" in score.reason
