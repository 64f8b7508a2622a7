"""Unit tests of the run directory, event log, checkpoint and resume config check."""

from __future__ import annotations

import json
import random

import pytest

from dlpo.errors import ConfigError
from dlpo.runs.checkpoint import (
    load_checkpoint,
    rng_state_from_json,
    rng_state_to_json,
    save_checkpoint,
    write_json_atomic,
)
from dlpo.runs.events import EventLog, latest_test_events, read_events, strip_volatile, truncate_events
from dlpo.runs.resume import check_config, diff_configs, load_for_resume
from dlpo.runs.run_dir import RunDir, default_run_dir, is_run_dir


def test_event_log_appends_numbered_lines_and_calls_back(tmp_path):
    seen = []
    path = tmp_path / "events.jsonl"
    with EventLog(path, on_event=seen.append, clock=lambda: 12.5) as log:
        log.emit("validation", 0, score=0.5)
        log.emit("gradient", 1, text="be concise")
    lines = path.read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [0, 1]
    assert json.loads(lines[1]) == {"seq": 1, "type": "gradient", "step": 1, "t": 12.5, "text": "be concise"}
    assert [e["type"] for e in seen] == ["validation", "gradient"]
    # Reopening continues the numbering.
    with EventLog(path) as log:
        assert log.count == 2
        assert log.emit("usage", 1)["seq"] == 2


def test_truncate_keeps_first_events_and_drops_torn_line(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventLog(path) as log:
        for i in range(5):
            log.emit("x", i)
    with open(path, "a") as fh:
        fh.write('{"seq": 5, "type": "tor')  # a kill in the middle of a write
    assert len(read_events(path)) == 5
    truncate_events(path, 3)
    assert [e["step"] for e in read_events(path)] == [0, 1, 2]
    assert path.read_text().endswith("\n")
    with pytest.raises(ConfigError, match="holds only 3"):
        truncate_events(path, 4)


def test_strip_volatile_drops_timing_and_accounting_only():
    events = [
        {
            "seq": 0,
            "type": "usage",
            "step": 1,
            "t": 3.0,
            "roles": {"forward": {"calls": 2, "cache_hits": 1, "requests": 3, "latency_s": 0.4}},
        }
    ]
    assert strip_volatile(events) == [
        {"seq": 0, "type": "usage", "step": 1, "roles": {"forward": {"requests": 3}}}
    ]
    assert strip_volatile(events, accounting=False)[0]["roles"]["forward"]["calls"] == 2


def test_latest_test_events_keeps_each_prompts_latest_test_evaluation():
    events = [
        {"type": "test", "which": "start", "score": 0.1},
        {"type": "validation", "which": "best", "score": 0.9},
        {"type": "test", "which": "best", "score": 0.2},
        {"type": "test", "which": "best", "score": 0.3},  # a resumed run's repeat
    ]
    tests = latest_test_events(events)
    assert sorted(tests) == ["best", "start"]
    assert tests["best"]["score"] == 0.3 and tests["start"]["score"] == 0.1


def test_atomic_write_and_checkpoint_round_trip(tmp_path):
    path = tmp_path / "checkpoint.json"
    rng = random.Random(7)
    rng.random()
    save_checkpoint(path, {"step": 3, "rng": rng_state_to_json(rng)})
    state = load_checkpoint(path)
    assert state["step"] == 3 and state["version"] == 1
    restored = random.Random()
    restored.setstate(rng_state_from_json(state["rng"]))
    assert restored.random() == rng.random()
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.json"]  # no temp files left
    assert load_checkpoint(tmp_path / "missing.json") is None


def test_atomic_write_failure_keeps_old_file(tmp_path):
    path = tmp_path / "x.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_run_dir_create_open_and_refusals(tmp_path):
    run = RunDir.create(tmp_path / "r", {"task": "demo", "forward": "local"})
    assert is_run_dir(run.path) and run.events_path.exists()
    assert RunDir.open(run.path).read_config() == {"task": "demo", "forward": "local"}
    with pytest.raises(ConfigError, match="already holds a dlpo run"):
        RunDir.create(run.path, {})
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "f.txt").write_text("x")
    with pytest.raises(ConfigError, match="is not a dlpo run directory \\(no config.json\\)"):
        RunDir.open(tmp_path / "other")
    with pytest.raises(ConfigError, match="not an empty folder"):
        RunDir.create(tmp_path / "other", {})
    with pytest.raises(ConfigError, match="api_key"):
        RunDir.create(tmp_path / "s", {"forward": {"api_key": "sk-123"}})
    assert not (tmp_path / "s").exists()


def test_default_run_dir_name():
    from datetime import datetime

    path = default_run_dir("my task", "dlpo", datetime(2025, 1, 2, 3, 4, 5))
    assert str(path) == "runs/my_task-dlpo-20250102-030405"


def test_config_diff_names_keys(tmp_path):
    saved = {"task": "demo", "recipe": {"lr": 3, "techniques": ["tsa"]}, "budget": {"max_calls": 5}}
    assert diff_configs(saved, saved) == []
    changed = {
        "task": "demo",
        "recipe": {"lr": 2, "techniques": ["tsa"]},
        "budget": {"max_calls": 9},
        "seed": 1,
    }
    assert diff_configs(saved, changed) == ["budget.max_calls", "recipe.lr", "seed"]
    with pytest.raises(ConfigError, match="recipe.lr, seed"):
        check_config(saved, changed)
    check_config(saved, {**saved, "budget": {"max_calls": 99}})  # budget may change
    run = RunDir.create(tmp_path / "r", saved)
    assert load_for_resume(run, saved) is None
    with pytest.raises(ConfigError, match="recipe.lr"):
        load_for_resume(run, changed)
