"""The deterministic parts of the gradient: scorer facts, observations, cleaning of critic replies,
and how the rejection rules treat a candidate built from them."""

from dlpo.evaluation import ExampleResult
from dlpo.optim.facts import (
    HINTS,
    OBSERVED,
    batch_facts,
    clean_suggestions,
    echoes,
    fix_hints,
    mask_numbers,
    observations,
)
from dlpo.optim.gradient import gradient_text
from dlpo.optim.parsing import SUGGESTIONS_HEADER, feedback_prose, reject_reason
from dlpo.tasks.base import Example, Score

Q = "Jack is 15 years old. Ivy is 7 years older than Jack. How old will Ivy be in 5 years?"


def item(output, target="27", value=0.0, answer=None, reason=None):
    reason = reason or (f"answered {answer}, expected {target}" if answer else "no `Answer:` line")
    return ExampleResult(Example("e", Q, target), output, Score(value, answer, reason))


ANSWER_FIRST = item(
    "Answer: 22\nExplanation: Ivy is 15 + 7 = 22 years old now, so in 5 years she will be 27 years old.",
    answer="22",
)


def test_observations_of_an_answer_written_before_its_working():
    seen = observations(ANSWER_FIRST)
    assert any("`Answer:` line first" in o for o in seen)
    assert any("expected answer appears in the reply's working" in o for o in seen)
    # working first, answer last: neither observation holds
    ok_order = item("Ivy is 22 now. In 5 years she is 26.\nAnswer: 26", answer="26")
    assert observations(ok_order) == []


def test_facts_count_reasons_with_numbers_masked():
    right = item("Answer: 27", value=1.0, answer="27", reason="correct: answered 27")
    facts = batch_facts([ANSWER_FIRST, item("I think 27.", answer=None), right])
    assert facts.startswith("2 of 3 answers were wrong.")
    assert "- 1 wrong: answered N, expected N" in facts and "- 1 wrong: no `Answer:` line" in facts
    assert "1 correct" in facts and "22" not in facts and "27" not in facts
    assert mask_numbers("several numbers after `Answer:` (3, 4.5); give one") == (
        "several numbers after `Answer:` (N, N); give one"
    )
    assert "were correct" in batch_facts([right])


def test_clean_suggestions_keeps_instructions_only():
    reply = (
        "Here are my suggestions:\n"
        "- Work out each step before writing the answer line.\n"
        "- The system prompt should ask for steps.\n"  # talks about the prompt
        "- Remember that Ivy is 7 years older.\n"  # quotes the batch
        "2. Work out each step before writing the answer line.\n"  # duplicate
        "* End with the line 'Answer: <number>'."
    )
    assert clean_suggestions(reply, [ANSWER_FIRST]) == [
        "Work out each step before writing the answer line.",
        "End with the line 'Answer: <number>'.",
    ]
    # no bullets at all: the first lines are taken, still filtered
    assert clean_suggestions("Check your arithmetic.", [ANSWER_FIRST]) == ["Check your arithmetic."]
    assert clean_suggestions("The model answered too fast.", [ANSWER_FIRST]) == []


def test_a_request_to_the_prompt_writer_is_not_a_suggestion():
    """Seen from the 1.5B critic on BBH object counting: "Provide clear instructions on how to count
    the fruits" was copied into the prompt, where it asks the answering model to write instructions."""
    reply = (
        "- Provide clear instructions on how to count the fruits.\n"
        "- Give more detailed guidance for the last step.\n"
        "- Include a step-by-step approach to counting the objects.\n"
        "- Add a sentence about units.\n"
        "- Count each object once, then add the counts."
    )
    assert clean_suggestions(reply, [ANSWER_FIRST]) == [
        "Include a step-by-step approach to counting the objects.",
        "Count each object once, then add the counts.",
    ]


def test_copying_suggestions_is_accepted_but_pasting_facts_is_rejected():
    current = "You will answer a reasoning question. Be concise."
    suggestions = [
        "Work out the problem in a few short plain steps before you write the answer line.",
        "Write the line 'Answer: <number>' only once, as the very last line of your reply.",
    ]
    feedback = gradient_text(batch_facts([ANSWER_FIRST, ANSWER_FIRST]), suggestions)
    assert SUGGESTIONS_HEADER in feedback and "Work out" not in feedback_prose(feedback)
    honest = f"{current} {suggestions[0]} {suggestions[1]}"
    assert reject_reason(honest, current=current, feedback=feedback) is None
    pasted = f"{current} 2 of 2 answers were wrong. In 2 wrong: the reply wrote its answer line first."
    assert reject_reason(pasted, current=current, feedback=feedback).startswith("pasted feedback")
    # feedback without the header is prose throughout: pasting it at large is still rejected
    prose = " ".join(suggestions) + " This will make the answers more reliable for everyone."
    assert reject_reason(f"{current} {prose}", current=current, feedback=prose).startswith("pasted feedback")


def test_observation_of_a_bare_answer():
    assert observations(item("Answer: 22", answer="22")) == [
        "the reply gave only the answer, with no working"
    ]


def test_fix_hints_follow_the_observed_failures_most_frequent_first():
    boxed = item(
        "So the total is \\boxed{27}.", reason="no `Answer:` line (the reply ends with \\boxed{27} instead)"
    )
    right = item("Answer: 27", value=1.0, answer="27", reason="correct: answered 27")
    hints = fix_hints([ANSWER_FIRST, ANSWER_FIRST, boxed, right])
    assert hints[0] == HINTS["answer_first"] and HINTS["answer_in_working"] in hints
    assert HINTS["no `Answer:` line"] in hints and HINTS["boxed"] in hints
    assert fix_hints([right]) == []
    several = item("Answer: 3 or 4", reason="several numbers after `Answer:` (3, 4); give one")
    assert HINTS["several numbers after `Answer:`"] in fix_hints([several])


def test_suggestions_that_only_repeat_the_prompt_are_dropped():
    prompt = "Answer it clearly and concisely, addressing the key points without unnecessary elaboration."
    reply = (
        "- Make sure the answer is clear and concise.\n- Avoid unnecessary elaboration.\n- Check each step."
    )
    assert echoes("Avoid unnecessary elaboration in the answer.", prompt)
    assert clean_suggestions(reply, [ANSWER_FIRST], prompt) == ["Check each step."]


def test_a_long_reply_that_stops_mid_way_was_cut_off():
    long = "Step 1: " + " ".join(["we add the numbers"] * 20) + " \\[ 22 + 10 ="
    cut = item(long, reason="no `Answer:` line (the last number in the reply is 10)")
    assert observations(cut) == [OBSERVED["cut_off"]] and HINTS["cut_off"] in fix_hints([cut])
    finished = item(" ".join(["we add the numbers"] * 20) + " so it is 32.")
    assert observations(finished) == []


def test_the_engine_saying_length_means_cut_off_even_for_a_short_reply():
    short = "Step 1: Jack is 15. Step 2: Ivy is"
    cut = ExampleResult(Example("e", Q, "27"), short, Score(0.0, None, "no `Answer:` line"), "length")
    assert observations(cut) == [OBSERVED["cut_off"]] and fix_hints([cut])[0] == HINTS["cut_off"]
    stopped = ExampleResult(Example("e", Q, "27"), short, Score(0.0, None, "no `Answer:` line"), "stop")
    assert OBSERVED["cut_off"] not in observations(stopped)
