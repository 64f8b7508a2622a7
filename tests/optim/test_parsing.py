"""One test per reply failure mode seen from the 1.5B local optimizer (local-llm.md)."""

import pytest

from dlpo.optim.parsing import (
    drop_copied_headers,
    has_repetition_loop,
    parse_reply,
    reask_hint,
    reject_reason,
)

CURRENT = "Answer the question."
NEW = "Solve the problem step by step and end with 'Answer: <number>'."


@pytest.mark.parametrize(
    "reply",
    [
        f"<IMPROVED_VARIABLE>{NEW}</IMPROVED_VARIABLE>",
        f"Sure! Here it is:\n<improved_variable>\n  {NEW}\n</improved_variable>\nHope it helps.",
        f"< IMPROVED_VARIABLE >{NEW}</ IMPROVED_VARIABLE >",
        f"<IMPROVED VARIABLE>{NEW}</IMPROVED VARIABLE>",
        f"<IMPROVED_PROMPT>{NEW}</IMPROVED_PROMPT>",
        f"<IMPROVED_VARIABLE>\n```\n{NEW}\n```\n</IMPROVED_VARIABLE>",
        f'<IMPROVED_VARIABLE>"{NEW}"</IMPROVED_VARIABLE>',
    ],
)
def test_tag_variants(reply):
    result = parse_reply(reply, current=CURRENT)
    assert result.candidate == NEW and result.method == "tags"


def test_tags_mentioned_in_prose_then_used():
    reply = f"I will write it between <IMPROVED_VARIABLE> and </IMPROVED_VARIABLE>.\n<IMPROVED_VARIABLE>{NEW}</IMPROVED_VARIABLE>"
    assert parse_reply(reply, current=CURRENT).candidate == NEW


def test_nested_old_variable_inside_new_tags_is_stripped():
    reply = f"<IMPROVED_VARIABLE>\n<VARIABLE>\n{CURRENT}\n</VARIABLE>\n{NEW}\n</IMPROVED_VARIABLE>"
    assert parse_reply(reply, current=CURRENT).candidate == NEW


def test_nested_variable_holding_the_new_prompt():
    reply = f"<IMPROVED_VARIABLE><VARIABLE>{NEW}</VARIABLE></IMPROVED_VARIABLE>"
    assert parse_reply(reply, current=CURRENT).candidate == NEW


def test_unchanged_prompt_is_rejected():
    result = parse_reply(
        f"<IMPROVED_VARIABLE>\n<VARIABLE>{CURRENT}</VARIABLE>\n</IMPROVED_VARIABLE>", current=CURRENT
    )
    assert result.candidate == CURRENT
    reason = reject_reason(result.candidate, current=CURRENT)
    assert reason.startswith("unchanged")
    assert reject_reason("  answer the   QUESTION. ", current=CURRENT).startswith("unchanged")


def test_pasted_question_is_rejected():
    question = "Question: Tom has 3 apples and buys 4 more. How many apples does he have?"
    cand = f"{NEW}\n{question}"
    reason = reject_reason(cand, current=CURRENT, sources=[question, "He has 7 apples.", "7"])
    assert reason.startswith("pasted example") and "#1" in reason


def test_pasted_model_answer_is_rejected():
    answer = "First we add three and four which gives seven apples in total so the final answer is 7."
    reason = reject_reason(f"{NEW} {answer}", current=CURRENT, sources=["Question: x?", answer])
    assert reason.startswith("pasted example") and "#2" in reason


def test_pasted_feedback_is_rejected_but_quoting_one_suggestion_is_fine():
    feedback = (
        "1. The prompt does not ask the model to show its intermediate steps, so arithmetic slips go unnoticed. "
        "2. The prompt never states the required final line format, so answers end without the number. "
        "3. Add an instruction to double check the final number before answering."
    )
    assert reject_reason(f"{NEW}\n{feedback}", current=CURRENT, feedback=feedback).startswith(
        "pasted feedback"
    )
    ok = "Solve step by step. Add an instruction to double check the final number before answering."
    assert reject_reason(ok, current=CURRENT, feedback=feedback) is None


def test_feedback_tags_leaked_are_rejected():
    assert reject_reason("<FEEDBACK>do better</FEEDBACK> Solve it.", current=CURRENT).startswith(
        "pasted feedback"
    )


def test_short_expected_answer_does_not_trigger_paste_rejection():
    assert reject_reason("Give 7 reasons. Then answer.", current=CURRENT, sources=["7"]) is None


@pytest.mark.parametrize(
    "reply",
    [
        f'Here is my suggestion.\nNew prompt: "{NEW}"',
        f"Improved prompt: {NEW}\n\nThis prompt is better because it is clearer.",
        f'**Improved system prompt:** "{NEW}"',
    ],
)
def test_new_prompt_label_fallback(reply):
    result = parse_reply(reply, current=CURRENT)
    assert result.candidate == NEW and result.method == "label"


def test_code_fence_fallback():
    result = parse_reply(f"Try this:\n```text\n{NEW}\n```", current=CURRENT)
    assert result.candidate == NEW and result.method == "fence"


def test_missing_tags_gives_reason_and_hint():
    result = parse_reply("The prompt should ask for steps and a final answer line.", current=CURRENT)
    assert result.candidate is None and result.reason.startswith("missing tags")
    assert "<IMPROVED_VARIABLE>" in reask_hint(result.reason)


def test_repetition_loop_until_max_tokens():
    loop = "<IMPROVED_VARIABLE>Solve it. " + "Always check the units and the numbers again. " * 30
    result = parse_reply(loop, current=CURRENT, finish_reason="length")
    assert result.candidate is None and result.reason.startswith("repetition loop")
    assert "repeated itself" in reask_hint(result.reason)
    assert has_repetition_loop(loop) and not has_repetition_loop(NEW)


def test_truncated_without_loop_is_rejected():
    result = parse_reply(
        "<IMPROVED_VARIABLE>Solve the problem and then", current=CURRENT, finish_reason="length"
    )
    assert result.candidate is None and result.reason.startswith("truncated")


def test_unclosed_tag_on_normal_stop_is_accepted():
    result = parse_reply(f"<IMPROVED_VARIABLE>{NEW}", current=CURRENT)
    assert result.candidate == NEW and result.method == "unclosed_tag"


def test_empty_and_too_long():
    assert reject_reason("", current=CURRENT).startswith("empty")
    assert parse_reply("<IMPROVED_VARIABLE> </IMPROVED_VARIABLE>", current=CURRENT).candidate == ""
    reason = reject_reason("word " * 50, current=CURRENT, max_words=20)
    assert reason.startswith("too long") and "50 words" in reason
    assert "50 words" in reask_hint(reason)


def test_pasted_critique_passage_is_rejected():
    """Seen on the real 1.5B optimizer: one critique sentence pair appended to the old prompt."""
    current = "You will answer a reasoning question. Answer it clearly and concisely."
    pasted = (
        "The expected answer is 3, which is not the final numerical result provided by the model. The system "
        "prompt should specify that the model should answer the question in a particular way."
    )
    feedback = (
        '1. Be concise.\n2. Specify the format: "'
        + pasted
        + '"\n3. Keep it short.\n4. Show steps.\n5. Check.'
    )
    reason = reject_reason(f"{current} {pasted}", current=current, feedback=feedback)
    assert reason.startswith("pasted feedback")
    # critique language alone (no shared text) is caught too
    assert reject_reason(f"{current} The system prompt should say more.", current=current).startswith(
        "pasted feedback"
    )
    # the prompt talking about "the system prompt" is the critic's language too (seen on BBH object
    # counting: "Check that the system prompt ends with the answer line")
    talk = f"{current} Check that the system prompt ends with the answer line."
    assert reject_reason(talk, current=current).startswith("pasted feedback")
    # ...unless the current prompt already talks that way (the user's own wording)
    assert reject_reason(talk + " Be brief.", current=talk) is None
    # a plain instruction is fine
    assert reject_reason(f"{current} Show your steps.", current=current, feedback=feedback) is None


def test_sentences_that_describe_a_prompt_instead_of_instructing_are_rejected():
    """Seen on GSM8K (textgrad seed 2, a structured update): the 1.5B optimizer added sentences that say
    what a prompt should hold, in the third person, and the prompt kept them for the rest of the run."""
    current = "You will answer a reasoning question. Write large numbers without thousands separators."
    for added in (
        "N. A clear and concise instruction for the model to work out the problem in a few short steps first.",
        "N. A detailed explanation of how the model arrived at the answer.",
    ):
        reason = reject_reason(f"{current} {added}", current=current)
        assert reason is not None and reason.startswith("pasted feedback"), added
    # instructions addressed to the model, and a user prompt that already speaks of "the model", pass
    assert reject_reason(f"{current} Explain how you arrived at the answer.", current=current) is None
    own = "Explain how the model of the economy predicts prices."
    assert reject_reason(f"{own} Be brief.", current=own) is None


def test_a_suggestion_pasted_with_its_quotes_and_dash_is_unwrapped():
    reply = (
        "<IMPROVED_VARIABLE>\nYou will answer a reasoning question. Keep the working short. "
        "'- Make sure the `Answer:` line contains the correct numerical result.'\n</IMPROVED_VARIABLE>"
    )
    parsed = parse_reply(reply, current="You will answer a reasoning question.")
    assert parsed.candidate == (
        "You will answer a reasoning question. Keep the working short. "
        "Make sure the `Answer:` line contains the correct numerical result."
    )
    kept = "Say 'yes' or 'no' - then stop. Use the word \"- dash\" rarely."
    assert parse_reply(f"<IMPROVED_VARIABLE>{kept}</IMPROVED_VARIABLE>").candidate == kept


def test_a_block_closed_with_an_opening_tag_is_read():
    """Seen from the 1.5B model: the closing tag written without its slash."""
    from dlpo.optim.parsing import parse_reply

    parsed = parse_reply("<IMPROVED_VARIABLE>Label the message.<IMPROVED_VARIABLE>")
    assert (parsed.candidate, parsed.method) == ("Label the message.", "unclosed_tag")


CONVENTIONS = "Task conventions (true of every training answer; a good prompt states them):"


@pytest.mark.parametrize(
    ("candidate", "expected", "dropped"),
    [
        # copied inline with "The" in front (a 1.5B optimizer's GSM8K prompt): the sentence it headed stays
        (
            f"Answer the question. The {CONVENTIONS[0].lower()}{CONVENTIONS[1:]} Show your working. - No commas.",
            "Answer the question. Show your working. - No commas.",
            1,
        ),
        # on its own line above the bullets it headed: the line goes, the bullets stay
        (
            f"Answer the question.\n{CONVENTIONS}\n- The answer is a whole number.\n- No commas.",
            "Answer the question.\n- The answer is a whole number.\n- No commas.",
            1,
        ),
        # the suggestions header, at the start and again at the end, colon dropped
        (
            "Suggested instructions for the prompt:\n- Check the sum.\nAnswer the question. Suggested  instructions for the prompt",
            "- Check the sum.\nAnswer the question.",
            2,
        ),
    ],
)
def test_feedback_headers_copied_into_a_candidate_are_dropped(candidate, expected, dropped):
    assert drop_copied_headers(candidate, CURRENT) == (expected, dropped)


def test_a_header_the_current_prompt_states_and_a_candidate_without_one_are_left_alone():
    current = f"{CONVENTIONS}\n- Bare digits."
    assert drop_copied_headers(f"{current}\n- No commas.", current) == (f"{current}\n- No commas.", 0)
    assert drop_copied_headers(NEW, CURRENT) == (NEW, 0)
    # the words alone, not the header: "task conventions" in the user's own sentence stays
    own = "Follow the task conventions below. Answer the question."
    assert drop_copied_headers(own, CURRENT) == (own, 0)
