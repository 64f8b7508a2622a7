"""Progress displays fed by the training loop's events (`afit(on_event=...)`).

On a terminal, `ProgressDisplay` is a `rich` live display: the step (bar, elapsed time and ETA), the
epoch, the phase, the last decision (accepted/rejected with delta and T), lr, batch and validation
accuracy, model calls, tokens, cache hits and $ so far. Without one (nohup, CI, a log file),
`PlainProgress` prints one plain line per step and per evaluation phase on stdout instead, flushed
at once.
`progress_display()` picks the one that fits the console.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Self, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from dlpo.training.records import decision_status

# What the loop does after each event type (the phase shown until the next event).
NEXT_PHASE = {
    "start": "validating the starting prompt",
    "usage": "forward pass on the minibatch",
    "plan": "forward pass on the minibatch",
    "forward_batch": "backward: critiques + reduction",
    "gradient": "optimizer: rewriting the prompt",
    "update_request": "optimizer: rewriting the prompt",
    "candidate": "scoring the candidate",
    "decision": "validating",
    "step": "",
    "validation": "",
    "test": "testing start / best / last prompts",
}


class ProgressDisplay:
    """Use as a context manager; pass `on_event` to `afit`. The display is transient (erased at the
    end, so an error message stays one line); the caller prints the result."""

    def __init__(self, total_steps: int | None, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]step"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("[cyan]{task.description}"),
            console=self.console,
        )
        self.task_id = self.progress.add_task("loading models", total=total_steps)
        self.status = Text("")
        self.live = Live(
            Group(self.progress, self.status), console=self.console, refresh_per_second=4, transient=True
        )
        self.state: dict[str, Any] = {"accepted": 0, "rejected": 0, "failed": 0}
        self.phase = "loading models"

    def __enter__(self) -> Self:
        self.live.start()
        self._refresh()
        return self

    def __exit__(self, *exc: object) -> None:
        self._refresh()
        self.live.stop()

    def on_event(self, event: dict[str, Any]) -> None:
        kind, st = event["type"], self.state
        if kind == "decision":
            key = decision_status(event["accepted"], event["failed"], event.get("skipped", False))
            st[key] = st.get(key, 0) + 1
            st["last"] = (key, event.get("delta"), event.get("temperature"))
        elif kind == "forward_batch":
            st["batch"] = event["score"]
        elif kind == "validation":
            st["val"] = event["score"]
            st["best"] = max(st.get("best", event["score"]), event["score"])
        elif kind == "step":
            st["lr"] = event.get("lr")
            st["epoch"] = event.get("epoch")
            self.progress.update(self.task_id, completed=event["step"])
        elif kind == "plan":  # the budget buys fewer steps than configured
            self.progress.update(self.task_id, total=event["planned_steps"])
        elif kind == "usage":
            total = event["total"]
            st["calls"], st["hits"] = total["calls"], total["cache_hits"]
            st["tokens"] = total["prompt_tokens"] + total["completion_tokens"]
            st["usd"] = total.get("usd", 0.0)
        if NEXT_PHASE.get(kind):
            self.phase = NEXT_PHASE[kind]
        self._refresh()

    def _refresh(self) -> None:
        st = self.state
        parts = [f"epoch {st['epoch']}"] if st.get("epoch") is not None else []
        if "last" in st:
            key, delta, temp = st["last"]
            colour = {"accepted": "green", "rejected": "yellow", "failed": "red", "skipped": "cyan"}[key]
            extra = "".join(
                [f" Δ={delta:+.2f}" if delta is not None else "", f" T={temp:g}" if temp is not None else ""]
            )
            parts.append(f"[{colour}]{key}{extra}[/]")
        parts.append(f"acc/rej/fail {st['accepted']}/{st['rejected']}/{st['failed']}")
        if st.get("skipped"):
            parts.append(f"skipped {st['skipped']}")
        if st.get("lr") is not None:
            parts.append(f"lr {st['lr']:g}")
        if "batch" in st:
            parts.append(f"batch {st['batch']:.2f}")
        if "val" in st:
            parts.append(f"val {st['val']:.2f} (best {st['best']:.2f})")
        if "calls" in st:
            parts.append(
                f"calls {st['calls']} tok {st['tokens'] / 1000:.1f}k hits {st['hits']} ${st.get('usd', 0.0):.4f}"
            )
        self.progress.update(self.task_id, description=self.phase)
        self.status = Text.from_markup("  " + " | ".join(parts))
        self.live.update(Group(self.progress, self.status))


class PlainProgress:
    """One line per event that matters (start, each validation, each step, each test), for logs.

    The training loop logs a "usage" event right after the starting prompt's validation and after
    each step, so those lines wait for it and show the calls and tokens up to and including
    themselves (a line printed at once would show the previous step's). Test lines carry no usage:
    the test phase's usage is logged once, after the last test, and the final screen gives it.

    The same interface as `ProgressDisplay` (context manager + `on_event`)."""

    def __init__(self, total_steps: int | None, stream: TextIO | None = None) -> None:
        self.total = total_steps
        self.stream = stream if stream is not None else sys.stdout
        self.started = time.monotonic()
        self.state: dict[str, Any] = {}
        self.waiting: tuple[float, str] | None = None  # (elapsed, text) of a line awaiting its usage

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._release()
        self.stream.flush()

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _write(self, elapsed: float, text: str) -> None:
        self.stream.write(f"[dlpo {elapsed:6.0f}s] {text}\n")
        self.stream.flush()

    def _line(self, text: str) -> None:
        self._release()
        self._write(self._elapsed(), text)

    def _await_usage(self, text: str) -> None:
        self._release()
        self.waiting = (self._elapsed(), text)

    def _release(self) -> None:
        """Write the line awaiting usage, with the usage known now."""
        if self.waiting is not None:
            elapsed, text = self.waiting
            self.waiting = None
            self._write(elapsed, text + self._usage())

    def _usage(self) -> str:
        st = self.state
        if "calls" not in st:
            return ""
        return f" | calls {st['calls']} hits {st['hits']} tok {st['tokens'] / 1000:.1f}k"

    def on_event(self, event: dict[str, Any]) -> None:
        kind, st = event["type"], self.state
        of = f"/{self.total}" if self.total else ""
        if "total" in event:  # "usage", and "stopped" by the budget, carry the run's usage so far
            total = event["total"]
            st["calls"], st["hits"] = total["calls"], total["cache_hits"]
            st["tokens"] = total["prompt_tokens"] + total["completion_tokens"]
        if kind == "usage":
            self._release()
        elif kind == "start":
            sizes = event.get("sizes", {})
            self._line(
                f"start: task {event.get('task')}, "
                + ", ".join(f"{k} {v}" for k, v in sizes.items())
                + "; validating the starting prompt"
            )
        elif kind == "decision":
            st["decision"] = decision_status(event["accepted"], event["failed"], event.get("skipped", False))
            st["delta"], st["temperature"] = event.get("delta"), event.get("temperature")
        elif kind == "validation" and event.get("step", 0) == 0:
            self._await_usage(
                f"step 0{of} validation {event['score']:.3f} (n={event.get('n', '?')}){_cut(event)}"
            )
        elif kind == "step":
            parts = [f"step {event['step']}{of} {st.get('decision', '')}"]
            if st.get("delta") is not None:
                parts[0] += f" delta {st['delta']:+.2f}"
            if st.get("temperature") is not None:
                parts[0] += f" T {st['temperature']:g}"
            if event.get("batch_score") is not None:
                parts.append(f"batch {event['batch_score']:.2f}")
            if event.get("val") is not None:
                parts.append(f"val {event['val']:.3f} (best {event.get('best_val') or 0:.3f})")
            if event.get("lr") is not None:
                parts.append(f"lr {event['lr']:g}")
            self._await_usage(" | ".join(parts))
        elif kind == "test":
            self._line(
                f"test {event.get('which')} prompt (step {event.get('prompt_step')}): "
                f"{event['score']:.3f} (n={event.get('n', '?')}){_cut(event)}"
            )
        elif kind == "stopped":
            self._line(f"stopped: {event.get('message', event.get('reason'))}{self._usage()}")


def _cut(event: dict[str, Any]) -> str:
    """The line's suffix when k of an evaluation's answers hit the answer limit (cut off)."""
    k = event.get("cut_off")
    return f", {k} cut off at the answer limit" if k else ""


def progress_display(
    total_steps: int | None, console: Console | None = None
) -> ProgressDisplay | PlainProgress:
    """A live display (on stderr) when stdout is a terminal; otherwise (nohup, CI, a pipe, a log
    file) plain lines on stdout, so that stderr keeps only errors. `console` replaces stdout."""
    out = console or Console()
    if out.is_terminal:
        return ProgressDisplay(total_steps, console if console is not None else Console(stderr=True))
    return PlainProgress(total_steps, stream=out.file)
