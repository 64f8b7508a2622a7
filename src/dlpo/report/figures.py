"""Report figures: matplotlib `Figure` objects (no pyplot state, Agg canvas) as base64 PNG strings.

Each function returns a `data:image/png;base64,...` URI ready for an `<img src>`, so the report is
one self-contained file.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

from dlpo.report.load import RunData

ACCEPTED, REJECTED, FAILED = "#2e7d32", "#c62828", "#6d4c41"


def _figure(width: float = 7.0, height: float = 3.2) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_data_uri(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _steps_axis(ax: Any, steps: Sequence[int]) -> None:
    ax.set_xlabel("step")
    if steps:
        ax.set_xlim(-0.3, max(steps) + 0.3)
        if max(steps) <= 20:
            ax.set_xticks(range(max(steps) + 1))
    ax.grid(alpha=0.3)


def accuracy_figure(run: RunData) -> str:
    """Train minibatch, validation and acceptance-set accuracy per step; the candidate's
    acceptance-set score is marked by the decision (accepted / rejected / failed)."""
    fig = _figure()
    ax = fig.add_subplot()
    rows = run.steps
    val = [(0, run.start_val)] + [(r.step, r.val) for r in rows]
    val = [(s, v) for s, v in val if v is not None]
    if val:
        ax.plot(*zip(*val, strict=True), "-o", color="#1565c0", label="validation", ms=4)
    batch = [(r.step, r.batch_score) for r in rows if r.batch_score is not None]
    if batch:
        ax.plot(*zip(*batch, strict=True), "--s", color="#9e9e9e", label="train minibatch", ms=3)
    before = [(r.step, r.score_before) for r in rows if r.score_before is not None]
    if before:
        ax.plot(*zip(*before, strict=True), ":", color="#ef6c00", label="acceptance set (current)")
    for status, colour, marker in (
        ("accepted", ACCEPTED, "o"),
        ("rejected", REJECTED, "x"),
        ("failed", FAILED, "v"),
    ):
        pts = [
            (r.step, r.score_candidate) for r in rows if r.status == status and r.score_candidate is not None
        ]
        if status == "failed":
            pts = [(r.step, 0.0) for r in rows if r.status == "failed"]
        if pts:
            ax.scatter(
                *zip(*pts, strict=True),
                color=colour,
                marker=marker,
                s=50,
                zorder=3,
                label=f"candidate {status}",
            )
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("accuracy")
    _steps_axis(ax, [0] + [r.step for r in rows])
    ax.legend(fontsize=7, loc="best")
    return to_data_uri(fig)


def schedule_figure(run: RunData) -> str:
    """The textual learning rate (sentence-edit budget) and TSA's temperature per step."""
    fig = _figure(height=2.8)
    ax = fig.add_subplot()
    rows = run.steps
    lr = [(r.step, r.lr) for r in rows if r.lr is not None]
    if lr:
        ax.step(*zip(*lr, strict=True), where="post", color="#6a1b9a", label="lr (after step)")
    budget = [(r.step, r.edits_budget) for r in rows if r.edits_budget is not None]
    if budget:
        ax.plot(*zip(*budget, strict=True), "o", color="#6a1b9a", mfc="none", label="edit budget used")
    ax.set_ylabel("lr (sentence edits)")
    temps = [(r.step, r.temperature) for r in rows if r.temperature is not None]
    if temps:
        ax2 = ax.twinx()
        ax2.plot(*zip(*temps, strict=True), "-^", color="#00838f", label="temperature T", ms=4)
        ax2.set_ylabel("temperature")
        ax2.legend(fontsize=7, loc="upper center")
    _steps_axis(ax, [r.step for r in rows] or [0])
    if lr or budget:
        ax.legend(fontsize=7, loc="upper right")
    return to_data_uri(fig)


def length_figure(run: RunData) -> str:
    """Prompt length in words per step (and each candidate's length)."""
    fig = _figure(height=2.6)
    ax = fig.add_subplot()
    pts = [(0, len(run.start_prompt.split()))] + [
        (r.step, r.prompt_words) for r in run.steps if r.prompt_words
    ]
    ax.plot(*zip(*pts, strict=True), "-o", color="#37474f", ms=4, label="current prompt")
    cands = [(r.step, len(r.candidate.split())) for r in run.steps if r.candidate]
    if cands:
        ax.scatter(*zip(*cands, strict=True), marker="+", color="#ef6c00", s=60, label="candidate")
    ax.set_ylabel("words")
    ax.set_ylim(bottom=0)
    _steps_axis(ax, [p[0] for p in pts])
    ax.legend(fontsize=7)
    return to_data_uri(fig)


def cost_figure(run: RunData) -> str:
    """Tokens per role (prompt + completion, stacked), with calls and cache hits as labels."""
    roles: dict[str, Any] = run.usage.get("roles", {})
    fig = _figure(height=2.8)
    ax = fig.add_subplot()
    names = sorted(roles)
    prompt = [roles[n].get("prompt_tokens", 0) for n in names]
    completion = [roles[n].get("completion_tokens", 0) for n in names]
    ax.barh(names, prompt, color="#90caf9", label="prompt tokens")
    ax.barh(names, completion, left=prompt, color="#1565c0", label="completion tokens")
    for i, n in enumerate(names):
        u = roles[n]
        usd = f", ${u.get('usd', 0):.4f}" if u.get("usd") else ""
        ax.text(
            prompt[i] + completion[i],
            i,
            f"  {u.get('calls', 0)} calls, {u.get('cache_hits', 0)} hits{usd}",
            va="center",
            fontsize=7,
        )
    ax.set_xlabel("tokens")
    ax.set_xlim(0, max([p + c for p, c in zip(prompt, completion, strict=True)] or [1]) * 1.7)
    ax.legend(fontsize=7, loc="lower right")
    return to_data_uri(fig)


def overlay_figure(runs: Sequence[RunData], field: str = "val", title: str = "validation accuracy") -> str:
    """One curve per run of `field` ('val' or 'batch_score') against the step."""
    fig = _figure(height=3.4)
    ax = fig.add_subplot()
    all_steps = [0]
    for run in runs:
        pts = [(0, run.start_val)] if field == "val" else []
        pts += [(r.step, getattr(r, field)) for r in run.steps]
        pts = [(s, v) for s, v in pts if v is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), "-o", ms=3, label=run.label)
            all_steps += [p[0] for p in pts]
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel(title)
    _steps_axis(ax, all_steps)
    ax.legend(fontsize=7)
    return to_data_uri(fig)
