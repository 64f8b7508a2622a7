"""How long a run worked: its event log's span, less the time it spent killed before a resume.

A run killed and resumed later (the next day, on another machine) logs events before the kill and
after the resume; the span from its first to its last event counts the time in between. Each resume
is recorded in `<run>/resumes.jsonl` (`{"t": when the resumed process opened the run, "events": the
events it kept}`), so the time from the last kept event to the resume — the dead time, plus the work
done after the checkpoint that the resume redoes (mostly answered again from the run's own cache) —
is left out. Runs resumed before resumes were recorded count their whole span.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dlpo.runs.events import read_events

RESUMES_FILE = "resumes.jsonl"

__all__ = ["RESUMES_FILE", "active_wall_s", "read_resumes", "record_resume", "run_wall_s"]


def record_resume(run_path: str | Path, events: int, t: float | None = None) -> None:
    """Append one resume (its start time and the number of events it kept) to the run's record."""
    line = json.dumps({"t": round(time.time() if t is None else t, 3), "events": events})
    with open(Path(run_path) / RESUMES_FILE, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def read_resumes(run_path: str | Path) -> list[dict[str, Any]]:
    """The run's recorded resumes, oldest first ([] for a run never resumed)."""
    return read_events(Path(run_path) / RESUMES_FILE, what="resume")


def active_wall_s(events: list[dict[str, Any]], resumes: list[dict[str, Any]]) -> float | None:
    """Seconds from the first to the last event, less each resume's gap (from the last event it
    kept to the resume itself; a resume that kept none has no gap in this log). None for a log of
    fewer than two events."""
    if len(events) < 2:
        return None
    times = [float(e["t"]) for e in events]
    span = times[-1] - times[0]
    for r in resumes:
        kept = int(r["events"])
        if 0 < kept <= len(times):
            span -= max(0.0, r["t"] - times[kept - 1])
    return round(max(span, 0.0), 1)


def run_wall_s(run_path: str | Path, events: list[dict[str, Any]]) -> float | None:
    """`active_wall_s` of a run folder's events and resumes."""
    return active_wall_s(events, read_resumes(run_path))
