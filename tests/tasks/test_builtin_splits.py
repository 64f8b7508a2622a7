"""Every built-in loads from the shared data folder with the documented counts, and its splits
equal the reference index lists (splits/split_indices.json) for the seeds they cover."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlpo.tasks import math_tasks
from dlpo.tasks.bbh import TASKS as BBH_TASKS
from dlpo.tasks.registry import load_task
from dlpo.tasks.scoring import check_target
from dlpo.tasks.splits import permutation

SPLITS = ("train", "val", "test")


def _ids(task, split, key):
    return [key(e) for e in task.split(split)]


def test_permutation_is_random_shuffle_of_range() -> None:
    import random

    order = list(range(50))
    random.Random(7).shuffle(order)
    assert permutation(50, 7) == order
    assert permutation(50, 7) != permutation(50, 8)


@pytest.mark.parametrize(
    ("name", "ref", "sizes"),
    [
        ("gsm8k", "dlpo_GSM8K_DSPy", (50, 100, 400)),
        ("gsm8k:textgrad", "textgrad_GSM8K_DSPy", (200, 300, 1319)),
    ],
)
def test_gsm8k_matches_reference(data_dir: Path, reference_splits: dict, name: str, ref: str, sizes) -> None:
    task = load_task(name, data_dir=data_dir)
    expected = reference_splits["gsm8k"][ref]
    assert tuple(len(task.split(s)) for s in SPLITS) == sizes
    for split in SPLITS:
        assert _ids(task, split, lambda e: e.metadata["line"]) == expected[split]
    assert task.train[0].id.startswith("gsm8k/train/") and task.test[0].id.startswith("gsm8k/test/")
    assert all(check_target(task.scorer, e.target) is None for e in task.train + task.val + task.test)


def test_gsm8k_other_seed_is_deterministic_and_different(data_dir: Path, reference_splits: dict) -> None:
    a, b = load_task("gsm8k", data_dir=data_dir, seed=3), load_task("gsm8k", data_dir=data_dir, seed=3)
    assert [e.id for e in a.train] == [e.id for e in b.train]
    assert (
        _ids(a, "train", lambda e: e.metadata["line"])
        != reference_splits["gsm8k"]["dlpo_GSM8K_DSPy"]["train"]
    )
    assert not {e.id for e in a.train} & {e.id for e in a.val}


def test_gsm8k_targets_include_negatives_and_commas(data_dir: Path) -> None:
    task = load_task("gsm8k:textgrad", data_dir=data_dir)
    assert any(e.target.startswith("-") for e in task.test)
    assert all("," not in e.target for e in task.test)


def test_biggsm_matches_reference(data_dir: Path, reference_splits: dict) -> None:
    task = load_task("biggsm", data_dir=data_dir)
    expected = reference_splits["biggsm"]["dlpo_BIG_GSM"]
    assert tuple(len(task.split(s)) for s in SPLITS) == (190, 10, 410)
    for split in SPLITS:
        assert _ids(task, split, lambda e: e.metadata["line"]) == expected[split]
    everything = task.train + task.val + task.test
    assert max(len(e.target) for e in everything) >= 16  # exact 16-digit integers survive parsing
    assert all(e.target.isdigit() for e in everything)


def test_mgsm_matches_reference(data_dir: Path, reference_splits: dict) -> None:
    task = load_task("mgsm", data_dir=data_dir)
    expected = reference_splits["mgsm"]["dlpo_MGSM"]
    assert tuple(len(task.split(s)) for s in SPLITS) == (50, 100, 2588)
    for split in SPLITS:
        got = _ids(task, split, lambda e: [e.metadata["lang"], e.metadata["kind"], e.metadata["row"]])
        assert got == expected[split]
    assert all(check_target(task.scorer, e.target) is None for e in task.test)


def test_mgsm_language_subset(data_dir: Path) -> None:
    task = load_task("mgsm:fr,de", data_dir=data_dir)
    assert task.name == "mgsm:de,fr"
    assert tuple(len(task.split(s)) for s in SPLITS) == (50, 100, 2 * 258 - 150)
    assert {e.metadata["lang"] for e in task.train + task.val + task.test} == {"de", "fr"}
    again = load_task("mgsm:de,fr", data_dir=data_dir)
    assert [e.id for e in again.test] == [e.id for e in task.test]


@pytest.mark.parametrize("bbh_task", BBH_TASKS)
def test_bbh_matches_reference(data_dir: Path, reference_splits: dict, bbh_task: str) -> None:
    task = load_task(f"bbh:{bbh_task}", data_dir=data_dir)
    expected = reference_splits["bbh"]["dlpo_BigBenchHard"][bbh_task]
    assert len(task.train) + len(task.val) + len(task.test) == expected["n"]
    assert (len(task.train), len(task.val)) == (50, 50)
    for split in SPLITS:
        assert _ids(task, split, lambda e: e.metadata["row"]) == expected[split]
    assert task.initial_prompt == "You will answer a reasoning question."
    assert "Answer:" in task.answer_instruction


def test_bbh_all_targets_are_valid_for_their_scorer(data_dir: Path) -> None:
    for bbh_task in BBH_TASKS:
        task = load_task(f"bbh:{bbh_task}", data_dir=data_dir)
        bad = [e.target for e in task.train + task.val + task.test if check_target(task.scorer, e.target)]
        assert not bad, (bbh_task, bad[:3])


def test_bbh_textgrad_split_is_contiguous(data_dir: Path) -> None:
    task = load_task("bbh:object_counting:textgrad", data_dir=data_dir)
    assert [e.metadata["row"] for e in task.val] == list(range(50, 150))
    assert len(task.test) == 100


def test_math_matches_reference(data_dir: Path, reference_splits: dict) -> None:
    expected = reference_splits["math"]["dlpo_MATH"]
    task = load_task("math", data_dir=data_dir)
    assert tuple(len(task.split(s)) for s in SPLITS) == (100, 200, 300)
    for split in SPLITS:
        assert _ids(task, split, lambda e: e.id) == expected[split]
    root_rows = math_tasks.read_jsonl(data_dir / "math" / "MATH_train.jsonl.gz")
    assert len(math_tasks._examples(root_rows)) == expected["n_train_after_filter"]
    assert task.scorer_name == "math" and "\\boxed{}" in task.answer_instruction


def test_math500_is_test_only_addition(data_dir: Path) -> None:
    task = load_task("math500", data_dir=data_dir)
    plain = load_task("math", data_dir=data_dir)
    assert len(task.test) == 500
    assert [e.id for e in task.train] == [e.id for e in plain.train]
    assert not {e.id for e in task.test} & {e.id for e in task.train + task.val}


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("gsm8k", "reference:gsm8k"),
        ("biggsm", "reference:mgsm"),
        ("mgsm", "reference:mgsm"),
        ("math", "reference:math"),
        ("bbh:object_counting", "reference:gsm8k"),
        ("demo", "reference:gsm8k"),
    ],
)
def test_reference_scorer_per_benchmark(data_dir: Path, name: str, reference: str) -> None:
    assert load_task(name, data_dir=data_dir).scorer_name in ("numeric", "math")
    assert load_task(name, data_dir=data_dir, scorer="reference").scorer_name == reference


def test_split_sizes_cap_the_reference_splits(data_dir: Path) -> None:
    full = load_task("biggsm", data_dir=data_dir)
    small = load_task("biggsm", data_dir=data_dir, split_sizes=(5, 2, 7))
    assert [e.id for e in small.train] == [e.id for e in full.train[:5]]
    assert (len(small.val), len(small.test)) == (2, 7)
