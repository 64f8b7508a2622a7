"""Adversarial tests for the sentence diff (issue 12): content alignment, ungameable edit units,
and trimming that only ever uses old units and units the model proposed, where it put them."""

import random

import pytest

from dlpo.optim import sentences as S
from dlpo.optim.sentences import normalize, sentence_diff, split_sentences
from dlpo.optim.trimming import trim_to_budget

# --- alignment by content -----------------------------------------------------------------------------


def test_unrelated_replacement_is_a_deletion_and_an_addition():
    d = sentence_diff("Alpha one. Beta rule. Gamma three.", "Alpha one. Delta is new. Gamma three.")
    assert (d.added, d.deleted, d.modified) == (1, 1, 0)


def test_inserted_sentence_does_not_steal_the_modification():
    old = "Alpha one. Beta rule. Gamma three."
    new = "Alpha one. New X rule. Beta rule changed. Gamma three."
    d = sentence_diff(old, new)
    assert (d.added, d.deleted, d.modified) == (1, 0, 1)
    [add, mod] = d.edits
    assert (add.kind, add.new_index) == ("add", 1)
    assert (mod.kind, mod.old_index, mod.new_index) == ("modify", 1, 2)


def test_pairs_never_cross():  # guard: the text is rebuilt in order
    old = "Read the question twice. Check your arithmetic. Be brief."
    new = "Check your arithmetic carefully. Be brief. Read the question twice slowly."
    edits = sentence_diff(old, new).edits
    pairs = [(e.old_index, e.new_index) for e in edits if e.kind == "modify"]
    assert pairs == sorted(pairs) and [j for _, j in pairs] == sorted(j for _, j in pairs)


# --- ungameable edit units ----------------------------------------------------------------------------

CLAUSES = [
    "always show every single step",
    "check each number twice over",
    "write the units after numbers",
    "keep every answer very short",
    "never guess a missing value",
    "restate the question in brief",
    "list the known values first",
    "finish with the final answer",
]


def test_run_on_joined_by_semicolons_counts_each_clause():
    runon = "; ".join(CLAUSES) + "."
    assert len(runon.split()) == 40
    d = sentence_diff("Solve the problem.", "Solve the problem. " + runon.capitalize())
    assert d.added == len(CLAUSES) == d.total


def test_colon_clauses_count_separately():
    new = "Solve the problem. Two rules matter here: show every step in order: check the final number."
    assert sentence_diff("Solve the problem.", new).total == 3


def _long_sentence(words: int, first: str = "Explain") -> str:
    return " ".join([first, *(f"detail{i}" for i in range(words - 1))]) + "."


@pytest.mark.parametrize("words,edits", [(25, 1), (26, 2), (40, 2), (60, 3)])
def test_long_sentence_counts_one_edit_per_started_word_cap(words, edits):
    assert sentence_diff("Solve the problem.", "Solve the problem. " + _long_sentence(words)).total == edits


def test_modifying_a_long_sentence_counts_its_weight():
    old = "Solve the problem. " + _long_sentence(40)
    new = "Solve the problem. " + _long_sentence(40, first="Describe")
    assert sentence_diff(old, new).to_dict() == {"added": 0, "deleted": 0, "modified": 2, "total": 2}


def test_inline_list_items_count_separately():
    new = "Solve the problem. Follow these rules: 1) show every step, 2) check the units, 3) keep it short."
    assert sentence_diff("Solve the problem.", new).added == 4


def test_line_list_items_count_separately():  # guard: lines were units before the fix, keep them so
    new = "Solve the problem.\nRules:\n- show every step\n- check the units\n- keep it short"
    assert sentence_diff("Solve the problem.", new).added == 4


def test_colons_in_quotes_and_short_labels_do_not_split():  # guard: no over-counting
    old = "Solve the problem."
    assert sentence_diff(old, old + " End with 'Answer: <number>'.").total == 1
    assert sentence_diff(old, old + " Note: be brief.").total == 1
    assert sentence_diff(old, old + ' Write "a; b; c" as given.').total == 1


def test_split_sentences_is_unchanged_for_other_users():  # guard
    assert split_sentences("Be brief; be clear. Next one.") == ["Be brief; be clear.", "Next one."]


# --- trimming ------------------------------------------------------------------------------------------


def test_trim_keeps_the_addition_and_the_old_sentence_of_an_unapplied_modification():
    old = "Alpha one. Beta rule. Gamma three."
    new = "Alpha one. New X rule. Beta rule changed. Gamma three."
    assert trim_to_budget(old, new, 1) == "Alpha one. New X rule. Beta rule. Gamma three."


def test_trim_counts_clause_units_and_keeps_or_reverts_a_whole_new_sentence_whole():
    runon = "; ".join(CLAUSES[:4]).capitalize() + "."
    new = "Solve the problem. " + runon + " Be brief."
    # the run-on weighs 4: under a budget of 2 it is left out whole (not cut to "...twice over;")
    # and the next addition that fits is kept
    assert trim_to_budget("Solve the problem.", new, 2) == "Solve the problem. Be brief."
    assert trim_to_budget("Solve the problem.", new, 4) == "Solve the problem. " + runon
    # clause edits inside a sentence that stays are still trimmed clause by clause
    old = "Solve the problem. " + runon
    changed = old.replace("single step", "single step in words").replace("twice over", "three times")
    trimmed = trim_to_budget(old, changed, 1)
    assert trimmed == old.replace("single step", "single step in words")
    assert sentence_diff(old, trimmed).total == 1


def test_trim_never_leaves_part_of_a_sentence_deleted_whole():
    """Found on GSM8K: a JSON edit deleted sentence 2 (two clause units) under a budget of 1, and
    trimming kept its second clause alone, a fragment ("write it as bare digits ...")."""
    convention = "The answer is always a whole number: write it as bare digits, with no units or words."
    old = f"You will answer a reasoning question. {convention} Check the working before the answer line."
    new = "You will answer a reasoning question. Check the working before the answer line."
    assert sentence_diff(old, new).total == 2
    assert trim_to_budget(old, new, 1) == old  # reverted whole: nothing of the model's edit fits
    assert trim_to_budget(old, new, 2) == new


OLD_POOL = [
    "Read the question twice.",
    "Check your arithmetic.",
    "Show each step.",
    "Be brief.",
    "Write units after numbers.",
    "Restate what is asked.",
    "List known values first.",
    "End with the answer.",
    "Avoid guessing missing data.",
    "Use plain words.",
]
NEW_POOL = [
    "Draw a small table.",
    "Name every variable.",
    "Estimate before computing.",
    "Prefer whole numbers.",
    "Compare both options.",
    "Quote the key phrase.",
    "Mark uncertain steps.",
    "Group similar terms.",
]


def _modified(sentence: str) -> str:
    return sentence[:-1] + " carefully."


def _case(seed: int) -> tuple[list[str], list[str], dict[str, str]]:
    """A random old prompt and a model's rewrite of it, with what the model did to each old sentence."""
    rng = random.Random(seed)
    old = rng.sample(OLD_POOL, rng.randint(3, 6))
    fresh = iter(rng.sample(NEW_POOL, len(NEW_POOL)))
    new: list[str] = []
    fate: dict[str, str] = {}
    for s in old:
        if rng.random() < 0.4:
            new.append(next(fresh))
        fate[s] = rng.choice(["keep", "keep", "modify", "delete"])
        if fate[s] != "delete":
            new.append(s if fate[s] == "keep" else _modified(s))
    if rng.random() < 0.5:
        new.append(next(fresh))
    return old, new, fate


@pytest.mark.parametrize("seed", range(40))
def test_trim_property_only_old_and_proposed_sentences_where_the_model_put_them(seed):
    old, new, fate = _case(seed)
    old_text, new_text = " ".join(old), " ".join(new)
    total = sentence_diff(old_text, new_text).total
    for budget in range(total + 2):
        trimmed = split_sentences(trim_to_budget(old_text, new_text, budget))
        assert sentence_diff(old_text, " ".join(trimmed)).total <= budget
        assert set(trimmed) <= set(old) | set(new), "a sentence nobody wrote"
        assert len(trimmed) == len(set(trimmed)), "a sentence twice"
        for s in old:
            if fate[s] == "keep":
                assert s in trimmed, f"kept sentence {s!r} lost"
            if fate[s] == "modify":
                assert (s in trimmed) != (_modified(s) in trimmed), f"modified sentence {s!r} lost or doubled"
        # the order of every sentence the model placed (itself, or its modified version) is the model's
        position = {s: k for k, s in enumerate(new)} | {
            s: new.index(_modified(s)) for s in old if fate[s] == "modify"
        }
        placed = [position[s] for s in trimmed if s in position]
        assert placed == sorted(placed)
    assert normalize(trim_to_budget(old_text, new_text, total)) == normalize(new_text)


@pytest.mark.parametrize(
    "text",
    [
        "Rules: 1) show every step, 2) check the units; (a) keep it short; • be kind.\n- item one\n- item two",
        "Be brief; be clear: no fluff. Say 'x: y; z' as is (a; b).\n\nEnd with Answer: <n>",
    ],
)
def test_units_rebuild_the_text(text):  # guard: trimming rebuilds texts from units
    assert S.join_pieces(S.split_units(text)) == text
