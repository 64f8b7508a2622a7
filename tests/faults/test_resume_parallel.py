"""Resume on a backend that is *not* bit-exact: the real llama-server with two parallel slots.

The guarantee on any backend: `--resume` replays every call the killed process finished (from the
run's response cache: none is sent again, each comes back with the answer the killed run got), keeps
the checkpointed events byte for byte, and repeats only the calls that were in flight. Only on a
deterministic backend (one slot, greedy; `test_faults.py` scenario b) does the repeated call, and so
the whole resumed run, equal an uninterrupted one; with parallel slots which requests share a
decode batch depends on timing, and llama.cpp's batched numerics can change a greedy answer's tail.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3

import pytest

from .proxy import wait_until
from .scenario import cached_wire_keys, finish, launch

pytestmark = [pytest.mark.faults, pytest.mark.model, pytest.mark.server]


SLOTS = 2  # the module's server (tests/faults/conftest.py): two parallel slots


def cached_answers(run_dir) -> dict[str, str]:
    con = sqlite3.connect(run_dir / "cache.sqlite")
    try:
        rows = con.execute("SELECT key, completion FROM responses").fetchall()
    finally:
        con.close()
    return {key: json.loads(raw)["text"] for key, raw in rows}


def test_parallel_slots_resume_replays_every_finished_call(proxy, tmp_path):
    run = tmp_path / "parallel"
    start = len(proxy.log)
    proc = launch(run, proxy.base_url, "--steps", "2")
    assert wait_until(
        lambda: sum(r.completed for r in proxy.log[start:]) >= 6 or proc.poll() is not None, 900
    )
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    checkpoint = json.loads((run / "checkpoint.json").read_text())
    kept = (run / "events.jsonl").read_bytes().splitlines(keepends=True)[: checkpoint["events"]]
    done_before = cached_wire_keys(run)
    answers_before = cached_answers(run)
    resumed_from = len(proxy.log)
    result = finish(launch(run, proxy.base_url, "--steps", "2", "--resume"))
    sent_after = {r.key for r in proxy.log[resumed_from:] if r.completed}
    assert done_before and not (done_before & sent_after), "a finished call was sent again"
    answers_after = cached_answers(run)
    assert all(answers_after[k] == v for k, v in answers_before.items()), "a replayed answer changed"
    assert (run / "events.jsonl").read_bytes().splitlines(keepends=True)[: len(kept)] == kept
    assert result["stopped"] is None and result["steps"] == 2 and (run / "result.json").exists()
