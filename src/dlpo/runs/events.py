"""The append-only event log (`events.jsonl`): one JSON object per line.

Every event has `seq` (0-based position), `type`, `step` and `t` (wall-clock seconds since the
epoch), plus the event's own fields. Each event is written, flushed and fsynced before `emit`
returns, so what a killed run logged is on disk. On resume the log is truncated to the number of
events the checkpoint counted, and the replayed step writes the same events again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Self

from dlpo.errors import ConfigError

# Fields that legitimately differ between an uninterrupted and a resumed run: wall-clock timing,
# and the split of requests into model calls vs cache hits vs replayed calls (a resumed run finds in
# the cache the calls the killed process had already made). `requests` and what the work costs
# alone (`calls_alone`, `tokens_alone`, `usd_alone`) do not differ (`dlpo.usage`).
TIMING_FIELDS = frozenset({"t", "wall_s", "latency_s", "elapsed_s", "busy_s"})
ACCOUNTING_FIELDS = frozenset(
    {
        "calls",
        "cache_hits",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "usd",
        "tokens",
        "shared_hits",
        "replayed",
    }
)

EventCallback = Callable[[dict[str, Any]], None]


class EventLog:
    """Appends events to a JSONL file. `on_event` (if given) sees every event after it is written."""

    def __init__(
        self,
        path: str | Path,
        *,
        on_event: EventCallback | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.on_event = on_event
        self._clock = clock
        self._count = count_events(self.path) if self.path.exists() else 0
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())

    @property
    def count(self) -> int:
        """Number of events in the file (the next event's `seq`)."""
        return self._count

    def emit(self, type: str, step: int, **data: Any) -> dict[str, Any]:
        event = {"seq": self._count, "type": type, "step": step, "t": round(self._clock(), 3), **data}
        line = json.dumps(event, ensure_ascii=False, sort_keys=False, default=_json_default)
        self._fh.write(line + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._count += 1
        if self.on_event is not None:
            self.on_event(event)
        return event

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json_default(obj: Any) -> Any:
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    return str(obj)


def read_events(path: str | Path, what: str = "event") -> list[dict[str, Any]]:
    """All complete events of a log. A torn last line (a kill during a write) is ignored; a corrupt
    line is an error naming the file, the line and `what` the log holds."""
    path = Path(path)
    if not path.exists():
        return []
    events = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.endswith("\n"):
                break  # torn write at the end
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                raise ConfigError(f"{path}:{lineno}: corrupt {what} line") from None
    return events


def latest_test_events(events: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A run's test evaluations by which prompt they scored ("start", "best", "last"); a later
    evaluation of the same prompt (a resumed run's) replaces an earlier one."""
    return {e["which"]: e for e in events if e["type"] == "test"}


def count_events(path: str | Path) -> int:
    """Number of complete lines in the log."""
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.endswith(b"\n"))


def truncate_events(path: str | Path, count: int) -> None:
    """Keep only the first `count` events (complete lines) of the log, durably."""
    path = Path(path)
    if not path.exists():
        if count:
            raise ConfigError(f"{path}: the checkpoint counts {count} events but the log is missing")
        path.touch()
        return
    offset, kept = 0, 0
    with open(path, "rb") as fh:
        for line in fh:
            if kept == count or not line.endswith(b"\n"):
                break
            offset += len(line)
            kept += 1
    if kept < count:
        raise ConfigError(f"{path}: the checkpoint counts {count} events but the log holds only {kept}")
    with open(path, "r+b") as fh:
        fh.truncate(offset)
        fh.flush()
        os.fsync(fh.fileno())


def strip_volatile(events: Iterable[dict[str, Any]], *, accounting: bool = True) -> list[dict[str, Any]]:
    """Events without timing fields (and, by default, without call/hit/token accounting), for
    comparing a resumed run with an uninterrupted one."""
    drop = TIMING_FIELDS | (ACCOUNTING_FIELDS if accounting else frozenset())
    return [_strip(e, drop) for e in events]


def _strip(obj: Any, drop: frozenset[str]) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v, drop) for k, v in obj.items() if k not in drop}
    if isinstance(obj, list):
        return [_strip(v, drop) for v in obj]
    return obj
