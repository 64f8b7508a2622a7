"""The live progress display folds training events into one status line."""

from __future__ import annotations

import io

from rich.console import Console

from dlpo.training.progress import ProgressDisplay


def test_status_line_shows_epoch_decision_lr_accuracy_and_cost():
    display = ProgressDisplay(4, console=Console(file=io.StringIO(), width=200))
    events = [
        {"type": "validation", "score": 0.5},
        {"type": "forward_batch", "score": 2 / 3},
        {"type": "decision", "failed": False, "accepted": False, "delta": -0.25, "temperature": 32.0},
        {"type": "validation", "score": 0.25},
        {"type": "step", "step": 1, "epoch": 2, "lr": 3.0},
        {
            "type": "usage",
            "total": {
                "calls": 5,
                "cache_hits": 2,
                "prompt_tokens": 1500,
                "completion_tokens": 500,
                "usd": 0.0123,
            },
        },
    ]
    for event in events:
        display.on_event(event)
    line = display.status.plain
    for part in (
        "epoch 2",
        "rejected Δ=-0.25 T=32",
        "acc/rej/fail 0/1/0",
        "lr 3",
        "batch 0.67",
        "val 0.25 (best 0.50)",
        "calls 5 tok 2.0k hits 2 $0.0123",
    ):
        assert part in line
    assert display.progress.tasks[0].completed == 1
