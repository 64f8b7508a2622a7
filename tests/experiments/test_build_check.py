"""`dlpo sweep` warns before running trials that would not pair with finished trials of another
llama-server build (`dlpo.experiments.build_check`)."""

import json
from pathlib import Path

import pytest
import yaml

from dlpo.cli.app import main
from dlpo.experiments.build_check import local_build, unpaired_note
from dlpo.experiments.spec import parse_experiment
from dlpo.experiments.trials import Trial, expand, save_row

HERE, THERE = "c1/0.3.36-aaaaaaaaaaaa", "c1/0.3.36-bbbbbbbbbbbb"
REPO = Path(__file__).resolve().parents[2]
DEMO_ROW = "dlpo__demo__q0.5b-q1.5b__s0-4e556411.json"


def _trial(method: str, seed: int, forward: str = "local:qwen2.5-0.5b") -> Trial:
    return Trial(f"{method}-s{seed}", method, "gsm8k", "e", seed, {"forward": forward, "backward": forward})


def _row(method: str, seed: int, build: str | None, task: str = "gsm8k") -> dict:
    row = {"id": f"{method}-s{seed}-{task}", "method": method, "task": task, "engine": "e", "seed": seed}
    if build is not None:
        row["builds"] = {"qwen2.5-0.5b": [build], "qwen2.5-1.5b": [build]}
    return row


def test_a_partner_of_the_same_seed_answered_by_another_build_is_named():
    note = unpaired_note([_trial("tgd", 1), _trial("apo", 1)], [_row("dlpo", 1, THERE)], HERE)
    assert note is not None
    assert f"build `{HERE}`" in note and f"`{THERE}` (1 trials)" in note
    assert "1 finished trial(s) that 2 of the trials to run would pair with" in note
    assert "DLPO_CMAKE_ARGS" in note  # no such build in this machine's cache: how to make one


def test_a_cached_build_of_the_partners_is_offered_as_the_binary_to_use(tmp_path):
    binary = tmp_path / "llama-server"
    note = unpaired_note([_trial("tgd", 1)], [_row("dlpo", 1, THERE)], HERE, lambda: {THERE: binary})
    assert note is not None and f"DLPO_LLAMA_SERVER={binary}" in note and "DLPO_CMAKE_ARGS" not in note


def test_no_warning_when_the_partners_used_this_build_or_recorded_none():
    assert unpaired_note([_trial("tgd", 1)], [_row("dlpo", 1, HERE)], HERE) is None
    assert unpaired_note([_trial("tgd", 1)], [_row("dlpo", 1, None)], HERE) is None


def test_rows_the_trial_would_not_pair_with_do_not_count():
    rows = [
        _row("dlpo", 0, THERE),  # another seed
        _row("tgd", 1, THERE),  # the same method (a re-run of itself is not a pair)
        _row("dlpo", 1, THERE, task="bbh"),  # another task
    ]
    assert unpaired_note([_trial("tgd", 1)], rows, HERE) is None


def test_a_human_prompt_trial_pairs_with_every_seed():
    note = unpaired_note([_trial("tgd", 2)], [_row("human:start", 0, THERE)], HERE, seedless={"human:start"})
    assert note is not None and f"`{THERE}` (1 trials)" in note
    assert (
        unpaired_note([_trial("tgd", 2)], [_row("human:start", 0, THERE)], HERE) is None
    )  # seeded: seed 0 only


def test_only_the_pairs_the_experiment_compares_count():
    rows = [_row("human:start", 0, THERE), _row("dlpo", 1, THERE)]
    compare = [("dlpo", "tgd"), ("tgd", "textgrad")]
    note = unpaired_note([_trial("tgd", 1)], rows, HERE, compare=compare, seedless={"human:start"})
    assert note is not None and f"`{THERE}` (1 trials)" in note  # dlpo's, not the human prompt's
    assert unpaired_note([_trial("apo", 1)], rows, HERE, compare=compare) is None  # apo is compared with none


def test_no_warning_for_trials_no_managed_server_answers_or_without_a_local_build():
    remote = _trial("tgd", 1, forward="openai:gpt-4o-mini")
    assert unpaired_note([remote], [_row("dlpo", 1, THERE)], HERE) is None
    assert unpaired_note([_trial("tgd", 1)], [_row("dlpo", 1, THERE)], None) is None


@pytest.mark.model
def test_dlpo_sweep_names_this_machines_real_build_and_the_finished_trials_other_one(
    small_model_path, tmp_path, capsys
):
    """A sweep resumed on another machine: the finished dlpo trial was answered by another build, so
    the real llama-server here (its `build_id`) would answer a tgd trial that cannot pair with it."""
    here = local_build()
    assert here is not None and here != THERE
    data = {
        "name": "resumed",
        "tasks": ["demo"],
        "seeds": [0],
        "engines": [{"name": "q", "forward": "local:qwen2.5-0.5b"}],
        "methods": ["dlpo", "tgd"],
        "results": str(tmp_path / "results"),
        "train": {"steps": 1, "val_limit": 2, "test_limit": 2},
    }
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data))
    dlpo_trial = next(t for t in expand(parse_experiment(data)) if t.method == "dlpo")
    # a real finished row of this project's demo sweep, as if made by this trial on another machine
    row = json.loads((REPO / "results/compare_demo" / DEMO_ROW).read_text())
    save_row(tmp_path / "results", {**row, "id": dlpo_trial.id, "engine": "q", "builds": {"m": [THERE]}})
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--tables-only"]) == 0
    text = capsys.readouterr().out
    assert f"This machine answers with llama-server build `{here}`" in text
    assert f"`{THERE}` (1 trials)" in text
    # the same row answered by this machine's build: nothing to warn about
    save_row(tmp_path / "results", {**row, "id": dlpo_trial.id, "engine": "q", "builds": {"m": [here]}})
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--tables-only"]) == 0
    assert "This machine answers with" not in capsys.readouterr().out
