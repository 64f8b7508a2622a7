"""Task-level facts (`dlpo.tasks.conventions`): the answer kind, the label set and the targets'
format, drawn from the train split only."""

from __future__ import annotations

import json

from dlpo.tasks.base import Example, Task
from dlpo.tasks.conventions import CONVENTIONS_HEADER, answer_kind, task_facts
from dlpo.tasks.files import load_task_file
from dlpo.tasks.registry import load_task
from dlpo.tasks.scoring import make_scorer

LABELS = ["billing", "account-access", "shipping"]


def file_task(tmp_path, targets, scorer="exact"):
    rows = [
        {"input": f"Message number {k}: something about my order.", "target": t}
        for k, t in enumerate(targets)
    ]
    path = tmp_path / "task.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return load_task_file(path, scorer=scorer, split_sizes=(len(targets) - 2, 1, 1))


def test_a_label_file_task_states_its_label_set_and_spellings(tmp_path):
    task = file_task(tmp_path, [LABELS[k % 3] for k in range(14)])
    facts = task_facts(task)
    assert facts.kind == "label" and set(facts.labels) == set(LABELS)
    text = facts.render()
    assert text.startswith(CONVENTIONS_HEADER)
    assert all(f"'{label}'" in text for label in LABELS) and "label only" in text and "lowercase" in text
    assert "number" not in text and "digits" not in text


def test_a_bare_number_task_states_the_format_not_values(tmp_path):
    task = file_task(tmp_path, [str(10 + 7 * k) for k in range(12)])  # exact-match scoring, numeric targets
    facts = task_facts(task)
    assert facts.kind == "number" and facts.labels == ()
    text = facts.render()
    assert "whole number" in text and "no units" in text
    assert not any(ex.target in text for ex in task.train)  # no example's value
    decimals = task_facts(file_task(tmp_path, ["2.5", "-3", "4", "7.25", "1", "9"]))
    assert "decimals" in decimals.render() and "negative" in decimals.render()


def test_built_in_kinds_follow_the_scorer():
    assert task_facts(load_task("demo")).kind == "number"
    choice = Task("c", [Example("a", "q", "(B)")] * 4, [], [], make_scorer("choice"))
    assert task_facts(choice).kind == "choice" and "option letter" in task_facts(choice).render()
    label = Task("l", [Example("a", "q", "Yes"), Example("b", "q", "Yes")], [], [], make_scorer("label"))
    assert task_facts(label).labels == ("Yes", "No")  # the whole pair, in the targets' style
    math = Task("m", [Example("a", "q", "\\frac{1}{2}")], [], [], make_scorer("math"))
    assert task_facts(math).kind == "math" and "boxed" in task_facts(math).render()


def test_free_text_targets_are_text_with_length_and_casing(tmp_path):
    targets = [f"apple pear {w}" for w in ("kiwi", "fig", "lime", "plum", "date", "sloe")]
    facts = task_facts(file_task(tmp_path, targets))
    assert facts.kind == "text" and facts.labels == ()
    assert "3 words" in facts.render() and "lowercase" in facts.render()


def test_only_the_train_split_is_read():
    train = [Example(f"t{k}", "q", ["a", "b"][k % 2]) for k in range(6)]
    held_out = [Example("v", "q", "secret-label")]
    task = Task("t", train, held_out, held_out, make_scorer("exact"))
    facts = task_facts(task)
    assert facts.labels == ("a", "b") and "secret-label" not in facts.render()


def test_answer_kind_from_targets_when_the_scorer_is_unknown():
    class Custom:
        name = "custom"

    task = Task("t", [], [], [], Custom())
    assert answer_kind(task, ["1", "22", "-3"]) == "number"
    assert answer_kind(task, ["(A)", "(C)"]) == "choice"
    assert answer_kind(task, ["x", "y", "x", "y"]) == "label"
    assert answer_kind(task, ["one thing", "another thing", "third"]) == "text"
