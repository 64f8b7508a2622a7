"""Wall-time estimates for a sweep's pending trials (`dlpo.experiments.estimate`)."""

import pytest

from dlpo.experiments.estimate import estimate_wall
from dlpo.experiments.trials import Trial


def _trial(method: str, seed: int, task: str = "tickets", engine: str = "e") -> Trial:
    return Trial(id=f"{method}-{task}-s{seed}", method=method, task=task, engine=engine, seed=seed, config={})


def _row(method: str, wall: float, task: str = "tickets", engine: str = "e") -> dict:
    return {"method": method, "task": task, "engine": engine, "wall_s": wall}


ROWS = [_row("dlpo", 300), _row("dlpo", 500), _row("tgd", 200), _row("human:start", 20)]


def test_a_pending_trial_is_estimated_by_the_mean_of_its_methods_finished_trials():
    est = estimate_wall([_trial("dlpo", 2), _trial("tgd", 1)], ROWS)
    assert est.seconds == pytest.approx(400 + 200)
    assert est.pending == 2 and est.without_basis == () and est.basis == 4


def test_a_method_with_no_finished_trial_borrows_from_its_kind_on_the_same_task_and_engine():
    est = estimate_wall([_trial("apo", 0), _trial("human:cot", 0)], ROWS)
    assert est.seconds == pytest.approx((300 + 500 + 200) / 3 + 20)  # optimizers' mean; the human prompt's


def test_a_trial_on_another_task_or_engine_has_no_basis_and_is_named():
    est = estimate_wall([_trial("dlpo", 0, task="gsm8k"), _trial("dlpo", 0, engine="other")], ROWS)
    assert est.seconds == 0 and len(est.without_basis) == 2
    assert "no finished trial to estimate 2" in est.text()


def test_the_text_gives_the_time_in_minutes_or_hours():
    assert "10 min" in estimate_wall([_trial("dlpo", 0)], [_row("dlpo", 600)]).text()
    assert "2.5 h" in estimate_wall([_trial("dlpo", k) for k in range(3)], [_row("dlpo", 3000)]).text()
    assert estimate_wall([], ROWS).text() == "every trial is finished"


def test_the_text_says_when_the_finished_trials_ran_on_more_than_one_build():
    def built(build: str) -> dict:
        return {**_row("dlpo", 600), "builds": {"local:a": [build], "local:b": [build]}}

    one = estimate_wall([_trial("dlpo", 0)], [built("x"), built("x"), _row("dlpo", 600)])
    assert one.builds == 1 and "on the machine that ran the 3 finished" in one.text()
    two = estimate_wall([_trial("dlpo", 0)], [built("x"), built("y")])
    assert two.builds == 2 and "mixed speeds of the 2 builds (machines) that ran the 2 finished" in two.text()


def test_a_row_whose_wall_time_reads_0_is_no_basis():
    est = estimate_wall([_trial("dlpo", 2)], [_row("dlpo", 600), _row("dlpo", 0.0)])
    assert est.seconds == pytest.approx(600) and est.basis == 1
