"""A run's working time leaves out the time it lay killed before a resume (`dlpo.runs.wall`)."""

from __future__ import annotations

import json

import pytest

from dlpo.errors import ConfigError
from dlpo.runs.events import read_events
from dlpo.runs.wall import active_wall_s, read_resumes, run_wall_s
from dlpo.train import afit

from .scripted_setup import engines, make_config, make_task


def _events(*times: float) -> list[dict]:
    return [{"seq": i, "t": t} for i, t in enumerate(times)]


def test_active_wall_leaves_out_each_resume_gap():
    events = _events(0, 10, 20, 1020, 1030, 5030, 5040)
    # killed after t=20, resumed at 1015; killed after 1030, resumed at 5025
    resumes = [{"t": 1015, "events": 3}, {"t": 5025, "events": 5}]
    assert active_wall_s(events, []) == 5040
    assert active_wall_s(events, resumes) == 5040 - (1015 - 20) - (5025 - 1030)
    # a resume that kept no events (APO replays from the start) leaves the new log's span alone
    assert active_wall_s(_events(100, 130), [{"t": 90, "events": 0}]) == 30
    assert active_wall_s(_events(5), []) is None


def test_a_resume_that_emptied_the_log_adds_the_emptied_logs_working_time():
    # killed after 1 h of work, emptied and replayed from the cache in 30 s
    assert active_wall_s(_events(9000, 9030), [{"t": 8990, "events": 0, "carried_s": 3600}]) == 3630
    # resumes recorded before the emptying refer to the old log and are not applied to the new one
    resumes = [{"t": 50, "events": 1}, {"t": 8990, "events": 0, "carried_s": 3600}]
    assert active_wall_s(_events(9000, 9030), resumes) == 3630
    # a second emptying carries the first one's time inside its own (no double count)
    resumes += [{"t": 20000, "events": 0, "carried_s": 3630}]
    assert active_wall_s(_events(20010, 20020), resumes) == 3640
    assert active_wall_s(_events(9000), [{"t": 8990, "events": 0, "carried_s": 3600}]) == 3600


async def test_a_resumed_run_records_the_resume_and_its_gap_is_not_counted(tmp_path):
    fwd, bwd = engines()
    run = tmp_path / "r"
    await afit(
        make_config("dlpo", steps=4),
        run_dir=run,
        task=make_task(),
        forward_engine=fwd,
        backward_engine=bwd,
        stop_after=2,
    )
    kept = len(read_events(run / "events.jsonl"))
    # pretend the killed part ran an hour ago: its events move back 3600 s
    shifted = [{**e, "t": e["t"] - 3600} for e in read_events(run / "events.jsonl")]
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in shifted))
    fwd2, bwd2 = engines()
    await afit(resume=run, task=make_task(), forward_engine=fwd2, backward_engine=bwd2)
    resumes = read_resumes(run)
    assert [r["events"] for r in resumes] == [kept]
    events = read_events(run / "events.jsonl")
    span = events[-1]["t"] - events[0]["t"]
    wall = run_wall_s(run, events)
    assert span > 3600 and wall is not None and wall < 60


def test_a_torn_last_resume_line_is_ignored_and_a_corrupt_one_is_named(tmp_path):
    (tmp_path / "resumes.jsonl").write_text('{"t": 5, "events": 2}\n{"t": 9, "ev')
    assert read_resumes(tmp_path) == [{"t": 5, "events": 2}]
    (tmp_path / "resumes.jsonl").write_text('{"t": 5, "events": 2}\nnot json\n')
    with pytest.raises(ConfigError, match=r"resumes.jsonl:2: corrupt resume line"):
        read_resumes(tmp_path)


def test_resumes_to_one_checkpoint_subtract_their_shared_gap_once():
    from dlpo.runs.wall import active_wall_s

    events = [{"t": 0.0}, {"t": 10.0}, {"t": 20.0}, {"t": 1000.0}, {"t": 1060.0}]
    # stopped after event 3 (t=20), resumed at 100 and stopped before a new checkpoint, then
    # resumed at 900 back to the same 3 events: idle is 20..900 once (880 s), not 80 + 880
    resumes = [{"t": 100.0, "events": 3}, {"t": 900.0, "events": 3}]
    assert active_wall_s(events, resumes) == 180.0
