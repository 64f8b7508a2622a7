"""Without a terminal (nohup, CI, a log file) `dlpo optimize` prints one plain line per step and per
evaluation phase, as they happen, instead of a live display that would print nothing."""

from __future__ import annotations

import io

from dlpo.cli.app import main
from dlpo.training.progress import PlainProgress, ProgressDisplay, progress_display


def test_a_pipe_gets_plain_lines_and_a_terminal_the_live_display():
    from rich.console import Console

    assert isinstance(progress_display(3, Console(file=io.StringIO())), PlainProgress)
    assert isinstance(progress_display(3, Console(file=io.StringIO(), force_terminal=True)), ProgressDisplay)


def test_optimize_without_a_terminal_prints_a_line_per_step_and_phase(tmp_path, capsys, scripted_engines):
    run = tmp_path / "run"
    assert main(["optimize", "--task", "demo", "--preset", "tgd", "--steps", "2", "--run-dir", str(run)]) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if line.startswith("[dlpo")]
    assert "[dlpo" not in captured.err  # stderr keeps only errors
    text = "\n".join(lines)
    assert lines[0].split("] ", 1)[1].startswith("start: task demo, train ")
    assert "step 0/2 validation " in text
    steps = [line for line in lines if "] step 1/2 " in line or "] step 2/2 " in line]
    assert len(steps) == 2, text
    assert all("| calls " in line for line in steps)
    tests = [line for line in lines if "] test " in line]
    assert [t.split("] test ", 1)[1].split(" ")[0] for t in tests] == ["start", "best", "last"]


def test_plain_lines_are_flushed_as_events_arrive():
    class Recorder(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            Recorder.flushes += 1
            super().flush()

    stream = Recorder()
    display = PlainProgress(2, stream=stream)
    display.on_event({"type": "start", "step": 0, "task": "t", "sizes": {"train": 3}})
    display.on_event({"type": "decision", "step": 1, "accepted": True, "failed": False, "delta": 0.25})
    display.on_event({"type": "step", "step": 1, "batch_score": 0.5, "val": 0.75, "best_val": 0.75, "lr": 3})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and Recorder.flushes >= 2
    assert "step 1/2 accepted delta +0.25 | batch 0.50 | val 0.750 (best 0.750) | lr 3" in lines[1]
