"""How long a run worked: its event log's span, less the time it spent killed before a resume.

A run killed and resumed later (the next day, on another machine) logs events before the kill and
after the resume; the span from its first to its last event counts the time in between. Each resume
is recorded in `<run>/resumes.jsonl` (`{"t": when the resumed process opened the run, "events": the
events it kept}`), so the time from the last kept event to the resume — the dead time, plus the work
done after the checkpoint that the resume redoes (mostly answered again from the run's own cache) —
is left out. Runs resumed before resumes were recorded count their whole span.

A resume that keeps no events (APO, which has no mid-run checkpoint and replays from the start
against the run's cache; a run killed before its first checkpoint) empties the log, so the working
time of the emptied log is recorded with it as `carried_s` and added to the new log's span.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dlpo.runs.events import read_events

RESUMES_FILE = "resumes.jsonl"

__all__ = ["RESUMES_FILE", "active_wall_s", "read_resumes", "record_resume", "run_wall_s"]


def record_resume(
    run_path: str | Path, events: int, t: float | None = None, carried_s: float | None = None
) -> None:
    """Append one resume (its start time and the number of events it kept) to the run's record;
    `carried_s` is the working time of a log the resume empties (`events` 0)."""
    entry: dict[str, Any] = {"t": round(time.time() if t is None else t, 3), "events": events}
    if carried_s:
        entry["carried_s"] = round(carried_s, 1)
    line = json.dumps(entry)
    with open(Path(run_path) / RESUMES_FILE, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def read_resumes(run_path: str | Path) -> list[dict[str, Any]]:
    """The run's recorded resumes, oldest first ([] for a run never resumed)."""
    return read_events(Path(run_path) / RESUMES_FILE, what="resume")


def active_wall_s(events: list[dict[str, Any]], resumes: list[dict[str, Any]]) -> float | None:
    """Seconds from the first to the last event, less the time covered by the resumes' gaps (from
    the last event each kept to the resume itself; gaps that overlap, as when two resumes go back to
    one checkpoint, count once), plus the `carried_s` of the last resume that emptied the log
    (resumes before it refer to the emptied log and are not applied to this one). None when there
    is neither a carried time nor a log of two events."""
    carried, since = 0.0, 0
    for i, r in enumerate(resumes):
        if int(r["events"]) == 0:
            carried, since = float(r.get("carried_s", 0.0)), i + 1
    if len(events) < 2:
        return round(carried, 1) if carried else None
    times = [float(e["t"]) for e in events]
    gaps = sorted(
        (times[int(r["events"]) - 1], float(r["t"]))
        for r in resumes[since:]
        if 0 < int(r["events"]) <= len(times)
    )
    idle, reach = 0.0, float("-inf")  # two resumes back to one checkpoint share a gap: count it once
    for start, end in gaps:
        start = max(start, reach)
        if end > start:
            idle += end - start
            reach = end
    return round(max(times[-1] - times[0] - idle, 0.0) + carried, 1)


def run_wall_s(run_path: str | Path, events: list[dict[str, Any]]) -> float | None:
    """`active_wall_s` of a run folder's events and resumes."""
    return active_wall_s(events, read_resumes(run_path))
