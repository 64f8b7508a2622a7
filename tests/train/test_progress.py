"""The live progress display: what it shows after a sequence of loop events."""

from __future__ import annotations

import io

from rich.console import Console

from dlpo.training.progress import ProgressDisplay


def test_display_tracks_decisions_scores_and_usage():
    console = Console(file=io.StringIO(), width=200)
    with ProgressDisplay(4, console=console) as display:
        display.on_event({"type": "validation", "step": 0, "score": 0.25})
        display.on_event({"type": "forward_batch", "step": 1, "score": 0.5})
        display.on_event(
            {
                "type": "decision",
                "step": 1,
                "failed": False,
                "accepted": False,
                "delta": -0.2,
                "temperature": 32.0,
            }
        )
        display.on_event({"type": "validation", "step": 1, "score": 0.5})
        display.on_event({"type": "step", "step": 1, "lr": 3})
        display.on_event(
            {
                "type": "usage",
                "step": 1,
                "total": {"calls": 12, "cache_hits": 5, "prompt_tokens": 1500, "completion_tokens": 500},
            }
        )
        status = display.status.plain
        assert "rejected Δ=-0.20 T=32" in status and "acc/rej/fail 0/1/0" in status
        assert "lr 3" in status and "batch 0.50" in status and "val 0.50 (best 0.50)" in status
        assert "calls 12 tok 2.0k hits 5" in status
        assert display.progress.tasks[0].completed == 1
        display.on_event({"type": "forward_batch", "step": 2, "score": 1.0})
        assert display.progress.tasks[0].description.startswith("backward")
