"""Robustness figures over seeds and the accuracy-vs-tokens curves of a sweep."""

from __future__ import annotations

from dlpo.experiments.tables import robustness_markdown, robustness_rows
from dlpo.report.cost_curves import at_budget, best_so_far, curves_figure


def row(method: str, seed: int, start: float, best: float, curve: list) -> dict:
    return {"task": "t", "engine": "e", "method": method, "seed": seed, "start_test": start,
            "best_test": best, "curve": curve}  # fmt: skip


ROWS = [
    row("a", 0, 0.5, 0.7, [[100, 0.5], [300, 0.6], [500, 0.4], [700, 0.8]]),
    row("a", 1, 0.5, 0.4, [[100, 0.5], [300, 0.5]]),
    row("b", 0, 0.5, 0.5, [[200, 0.5], [400, 0.55]]),
]


def test_robustness_gain_worst_seed_share_worse_and_largest_drop():
    [a, b] = robustness_rows(ROWS, ["a", "b"])
    assert a["method"] == "a" and a["n"] == 2 and abs(a["gain_mean"] - 0.05) < 1e-9
    assert abs(a["worst_gain"] + 0.1) < 1e-9 and a["worse_share"] == 0.5
    assert abs(a["max_val_drop"] - 0.2) < 1e-9  # 0.6 -> 0.4 in seed 0
    assert b["worse_share"] == 0 and b["max_val_drop"] == 0
    assert "| t | e | a | 2 | +0.050" in robustness_markdown([a, b])


def test_best_so_far_at_a_budget_and_the_figure(tmp_path):
    assert best_so_far(ROWS[0]["curve"], 99) is None
    assert best_so_far(ROWS[0]["curve"], 600) == 0.6  # the drop at 500 does not count
    mean, _std, n = at_budget(ROWS[:2], 400)
    assert n == 2 and abs(mean - 0.55) < 1e-9
    png = curves_figure(ROWS, "t", tmp_path / "c.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
