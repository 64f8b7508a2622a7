"""The sweep table flags a technique that never acted in a trial (an ablation that did nothing)."""

from __future__ import annotations

from dlpo.experiments.tables import markdown, result_rows


def row(seed: int, activity: dict) -> dict:
    return {
        "task": "t", "engine": "e", "method": "tdo", "seed": seed, "status": "ok", "best_test": 0.5,
        "last_test": 0.5, "start_test": 0.4, "calls": 10, "tokens": 100, "usd": 0.0, "wall_s": 1.0,
        "activity": activity,
    }  # fmt: skip


def test_a_trial_whose_technique_never_acted_is_flagged():
    idle = {"tdo": {"steps": 0, "frozen": 0, "violated": 0, "restored": 0}}
    busy = {"tdo": {"steps": 2, "frozen": 3, "violated": 1, "restored": 1}}
    [r] = result_rows([row(0, idle), row(1, busy), row(2, idle)], ["tdo"])
    assert r["never_acted"] == {"tdo": 2}
    assert "| tdo (2/3) |" in markdown([r], [])
    [ok] = result_rows([row(0, busy)], ["tdo"])
    assert ok["never_acted"] == {} and "| - |" in markdown([ok], [])


def test_passive_counts_alone_are_not_acting():
    only_accepts = {
        "tsa": {"not_worse": 4, "hard_rejects": 0, "metropolis_accepts": 0, "metropolis_rejects": 0}
    }
    [r] = result_rows([row(0, only_accepts)], ["tdo"])
    assert r["never_acted"] == {"tsa": 1}
