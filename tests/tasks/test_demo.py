"""The built-in demo generator: seeded, offline, integer targets, distinct questions."""

from __future__ import annotations

import pytest

from dlpo.tasks.demo import TEMPLATES, generate
from dlpo.tasks.registry import load_task


def test_same_seed_same_problems_other_seed_other_problems() -> None:
    a, b, c = load_task("demo"), load_task("demo"), load_task("demo", seed=1)
    assert [(e.input, e.target) for e in a.test] == [(e.input, e.target) for e in b.test]
    assert [e.input for e in a.test] != [e.input for e in c.test]


def test_default_sizes_distinct_questions_and_integer_targets() -> None:
    task = load_task("demo")
    assert (len(task.train), len(task.val), len(task.test)) == (30, 20, 50)
    everything = task.train + task.val + task.test
    assert len({e.input for e in everything}) == len(everything)
    assert len({e.id for e in everything}) == len(everything)
    assert all(e.target.lstrip("-").isdigit() and int(e.target) >= 0 for e in everything)


def test_templates_are_varied() -> None:
    kinds = {e.metadata["template"] for e in generate(100, seed=0)}
    assert len(kinds) == len(TEMPLATES)


def test_targets_are_the_arithmetic_of_the_question() -> None:
    for example in generate(200, seed=5):
        if example.metadata["template"] == "distance":
            numbers = [int(x) for x in example.input.split() if x.isdigit()]
            assert int(example.target) == numbers[0] * numbers[1]


def test_split_sizes_and_prefix_stability() -> None:
    small = load_task("demo", split_sizes=(4, 3, 5))
    assert (len(small.train), len(small.val), len(small.test)) == (4, 3, 5)
    assert [e.input for e in generate(10, 3)] == [e.input for e in generate(20, 3)[:10]]


def test_demo_scoring_and_prompt() -> None:
    task = load_task("demo")
    assert task.scorer_name == "numeric" and task.answer_type == "numeric"
    assert "Answer: <number>" in task.answer_instruction and task.initial_prompt
    example = task.test[0]
    assert task.format_input(example).endswith(task.answer_instruction)
    assert task.score(f"Answer: {example.target}", example).correct
    assert load_task("demo", scorer="reference").scorer_name == "reference:gsm8k"


def test_demo_needs_no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DLPO_DATA_DIR", raising=False)
    assert load_task("demo", data_dir="/does/not/exist").name == "demo"
