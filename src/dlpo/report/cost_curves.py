"""Accuracy against cost, per method, over seeds: the budget-matched view of a sweep.

Each trial row carries its curve: (tokens spent so far, validation score of the current prompt),
tokens counted as the trial would have spent them alone. What a method would hand back at a given
budget is its best validation so far, so each trial's curve is turned into a best-so-far step
function, sampled on a common token grid, and drawn per method as the mean over seeds with a band
of one standard deviation. `at_budget` reads the same step functions at one budget (the table's
"at the budget" column).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dlpo.experiments.stats import mean_std


def best_so_far(curve: Sequence[Sequence[float]], tokens: float) -> float | None:
    """The best validation score among the points spent at or below `tokens` (None before any)."""
    seen = [score for spent, score in curve if spent <= tokens]
    return max(seen) if seen else None


def at_budget(rows: Sequence[dict[str, Any]], budget: float) -> tuple[float, float, int]:
    """Mean and std over trials of the best validation reached within `budget` tokens."""
    values = [v for r in rows if (v := best_so_far(r.get("curve") or [], budget)) is not None]
    m, s = mean_std(values)
    return m, s, len(values)


def curves_figure(rows: Sequence[dict[str, Any]], task: str, out: str | Path, points: int = 60) -> Path:
    """PNG of best-so-far validation accuracy vs tokens per method (mean ± std over seeds)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    by_method: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("task") == task and r.get("curve"):
            by_method.setdefault(r["method"], []).append(r)
    top = max((pt[0] for rs in by_method.values() for r in rs for pt in r["curve"]), default=1.0)
    grid = [top * i / (points - 1) for i in range(points)]
    fig = Figure(figsize=(7.0, 3.6), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for method, rs in sorted(by_method.items()):
        means, lows, highs, xs = [], [], [], []
        for x in grid:
            values = [v for r in rs if (v := best_so_far(r["curve"], x)) is not None]
            if len(values) < len(rs):  # not every seed has validated yet
                continue
            m, s = mean_std(values)
            xs.append(x / 1000)
            means.append(m)
            lows.append(m - (0 if math.isnan(s) else s))
            highs.append(m + (0 if math.isnan(s) else s))
        if xs:
            line = ax.plot(xs, means, label=f"{method} (n={len(rs)})", drawstyle="steps-post")[0]
            ax.fill_between(xs, lows, highs, step="post", alpha=0.15, color=line.get_color())
    ax.set_xlabel("tokens spent (thousands; forward and backward, as if alone)")
    ax.set_ylabel("best validation accuracy so far")
    ax.set_title(task)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path
