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


async def test_a_resumed_run_shows_the_checkpointed_step(tmp_path):
    from dlpo.cli.optimize import _logged_events
    from dlpo.train import afit

    from .scripted_setup import engines, make_config, make_task

    fwd, bwd = engines()
    await afit(
        make_config("tgd", steps=3),
        run_dir=tmp_path / "run",
        task=make_task(),
        forward_engine=fwd,
        backward_engine=bwd,
        stop_after=2,
    )
    events = _logged_events(tmp_path / "run")
    assert events and max(e["step"] for e in events) == 2
    display = ProgressDisplay(3, console=Console(file=io.StringIO(), width=200))
    for event in events:
        display.on_event(event)
    assert display.progress.tasks[0].completed == 2
    decided = sum(display.state[k] for k in ("accepted", "rejected", "failed"))
    assert decided == 2 and "calls" in display.state
