from dlpo.optim.sentences import (
    drop_repeats,
    join_pieces,
    sentence_diff,
    split_pieces,
    split_sentences,
    text_stats,
)
from dlpo.optim.trimming import trim_to_budget

OLD = "Solve the problem. Be brief. Give the answer."


def test_split_keeps_punctuation_and_line_breaks():
    text = "You are a tutor. Think step by step!\n1. Read the question.\n2. Use e.g. a table?\n\nEnd with Answer: <n>"
    assert split_sentences(text) == [
        "You are a tutor.",
        "Think step by step!",
        "1. Read the question.",
        "2. Use e.g. a table?",
        "End with Answer: <n>",
    ]
    assert join_pieces(split_pieces(text)) == text


def test_split_empty():
    assert split_sentences("") == [] and split_sentences("   \n ") == []


def test_diff_counts_add_delete_modify():
    new = "Solve the problem step by step. Give the answer. End with 'Answer: <number>'."
    d = sentence_diff(OLD, new)
    assert (d.added, d.deleted, d.modified, d.total) == (1, 1, 1, 3)


def test_replaced_pair_counts_one_modification():
    d = sentence_diff(OLD, "Solve the problem. Be very brief. Give the answer.")
    assert (d.added, d.deleted, d.modified) == (0, 0, 1)


def test_whitespace_only_change_is_no_edit():
    assert sentence_diff(OLD, "Solve the problem.\nBe  brief.   Give the answer.").total == 0


def test_pure_additions_and_deletions():
    assert sentence_diff(OLD, OLD + " Check your work. Stay calm.").to_dict() == {
        "added": 2,
        "deleted": 0,
        "modified": 0,
        "total": 2,
    }
    assert sentence_diff(OLD, "Give the answer.").to_dict()["deleted"] == 2


def test_trim_keeps_first_edits_in_text_order():
    new = "Solve the problem carefully. Be brief. Give the answer. Check it. Stay calm."
    assert sentence_diff(OLD, new).total == 3
    trimmed = trim_to_budget(OLD, new, 2)
    assert trimmed == "Solve the problem carefully. Be brief. Give the answer. Check it."
    assert sentence_diff(OLD, trimmed).total == 2
    assert trim_to_budget(OLD, new, 0) == OLD
    assert trim_to_budget(OLD, new, 10) == new


def test_trim_reverts_deletions_in_place():
    new = "Give the answer."  # two deletions
    trimmed = trim_to_budget(OLD, new, 1)
    assert sentence_diff(OLD, trimmed).total == 1
    assert trimmed == "Be brief. Give the answer."


def test_text_stats():
    assert text_stats(OLD) == {"words": 8, "sentences": 3}


def test_drop_repeats_removes_copies_the_current_prompt_does_not_have():
    current = "You answer the questions below. The answer is a whole number: write bare digits only."
    restated = "You answer the questions below. The answer is a whole number: write bare digits only. " * 2
    assert drop_repeats(restated.strip(), current) == (current, 2)
    listed = "Rules:\n- Write the label only.\n- Write the label only.\n- Be brief.\nExample:\nx\nExample:\ny"
    text, dropped = drop_repeats(listed, "Rules:\n- Write the label only.")
    assert dropped == 1 and text == "Rules:\n- Write the label only.\n- Be brief.\nExample:\nx\nExample:\ny"


def test_drop_repeats_counts_a_copy_with_its_words_reordered_as_a_copy():
    # textgrad's last GSM8K prompt (seed 0) said this twice, with "out" moved
    current = (
        "You will answer a reasoning question. Work the problem out first, then write the `Answer:` line."
    )
    candidate = current + " Check the answer. Work out the problem first; then write the Answer: line!"
    text, dropped = drop_repeats(candidate, current)
    assert dropped == 1 and text == current + " Check the answer."
    # different words are different sentences, however alike
    alike = current + " Work the problem out first, then write the `Answer:` line twice."
    assert drop_repeats(alike, current) == (alike, 0)


def test_drop_repeats_keeps_what_the_current_prompt_already_repeats_and_short_pieces():
    twice = "Write the label only. Read the message. Write the label only."
    assert drop_repeats(twice, twice) == (twice, 0)  # the user's own emphasis stays
    assert drop_repeats("Be brief. Be brief.", "Be brief.") == ("Be brief. Be brief.", 0)  # under 4 words
