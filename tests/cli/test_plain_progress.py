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
    display.on_event(_usage(step=1, calls=7))  # the loop logs it right after the step
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and Recorder.flushes >= 2
    assert "step 1/2 accepted delta +0.25 | batch 0.50 | val 0.750 (best 0.750) | lr 3 | calls 7" in lines[1]


def _usage(step, calls):
    total = {"calls": calls, "cache_hits": 0, "prompt_tokens": 100 * calls, "completion_tokens": 0}
    return {"type": "usage", "step": step, "total": total}


def test_a_step_line_counts_the_calls_of_its_own_step():
    """The usage event follows the step event; the line waits for it instead of showing the
    previous step's figures, and test lines, which no usage event follows, show none."""
    stream = io.StringIO()
    with PlainProgress(2, stream=stream) as display:
        display.on_event({"type": "validation", "step": 0, "score": 0.0, "n": 4})
        display.on_event(_usage(step=0, calls=4))
        display.on_event({"type": "decision", "step": 1, "accepted": True, "failed": False})
        display.on_event({"type": "step", "step": 1, "val": 0.5, "best_val": 0.5})
        display.on_event(_usage(step=1, calls=11))
        display.on_event({"type": "step", "step": 2, "val": 0.25, "best_val": 0.5})
        display.on_event(_usage(step=2, calls=19))
        display.on_event({"type": "test", "which": "best", "prompt_step": 1, "score": 0.5, "n": 8})
        display.on_event({"type": "step", "step": 3, "val": 0.5, "best_val": 0.5})  # no usage: the run ends
    lines = [line.split("] ", 1)[1] for line in stream.getvalue().splitlines()]
    assert lines[0] == "step 0/2 validation 0.000 (n=4) | calls 4 hits 0 tok 0.4k"
    assert lines[1].startswith("step 1/2 accepted") and lines[1].endswith("| calls 11 hits 0 tok 1.1k")
    assert lines[2].endswith("| calls 19 hits 0 tok 1.9k")
    assert lines[3] == "test best prompt (step 1): 0.500 (n=8)"
    assert lines[4].startswith("step 3/2") and lines[4].endswith(
        "| calls 19 hits 0 tok 1.9k"
    )  # written at exit


def test_a_budget_stop_line_gives_the_usage_it_stopped_at():
    stream = io.StringIO()
    stop = {"type": "stopped", "step": 2, "reason": "budget", "message": "token budget spent"}
    with PlainProgress(None, stream=stream) as display:
        display.on_event({**stop, "total": _usage(step=2, calls=30)["total"]})
    assert (
        stream.getvalue().split("] ", 1)[1].strip()
        == "stopped: token budget spent | calls 30 hits 0 tok 3.0k"
    )
