"""Sweeps with the toy engine: tables, re-runs recompute nothing, Ray equals serial, failures."""

import json

import pytest

from dlpo.experiments import toy
from dlpo.experiments.spec import parse_experiment
from dlpo.runs.events import read_events
from dlpo.sweep import sweep

TOY = "py:dlpo.experiments.toy:engine"


def _spec(path, methods=None, seeds=(0, 1), **extra):
    return parse_experiment(
        {
            "name": "toy",
            "tasks": [{"name": f"file:{path}", "options": {"scorer": "numeric"}}],
            "seeds": list(seeds),
            "engines": [{"name": "toy", "forward": TOY}],
            "methods": methods
            or [
                "tgd",
                {
                    "name": "apo",
                    "method": "apo",
                    "options": {
                        "beam_width": 2,
                        "minibatch": 6,
                        "n_gradients": 1,
                        "eval_rounds": 1,
                        "arms_per_round": 3,
                        "samples_per_eval": 3,
                    },
                },
            ],
            "train": {"steps": 2, "batch_size": 3, "val_limit": 4, "test_limit": 6},
            **extra,
        }
    )


@pytest.fixture
def task_file(tmp_path):
    return toy.write_task(tmp_path / "sums.jsonl", n=24)


def _stable(result):
    data = json.loads(result.files["json"].read_text())
    for row in data["results"]:
        row.pop("wall_s")
    for row in data["trials"]:
        row.pop("wall_s")
    return data


def _no_wall(md):
    """The Markdown tables without the results table's last column (wall time)."""
    return [line.rsplit("|", 2)[0] if line.count("|") == 13 else line for line in md.splitlines()]


def test_sweep_writes_tables_and_rerun_recomputes_nothing(task_file, tmp_path):
    spec = _spec(task_file)
    first = sweep(spec, tmp_path / "sw")
    assert not first.failures and len(first.ran) == 4
    assert {r["method"] for r in first.results} == {"tgd", "apo"} and all(r["n"] == 2 for r in first.results)
    md = first.files["md"].read_text()
    assert "| tgd |" in md and "Paired statistics" in md and first.files["csv"].exists()
    sizes = {p: p.stat().st_size for p in (tmp_path / "sw" / "trials").glob("*/events.jsonl")}
    again = sweep(spec, tmp_path / "sw")
    assert again.ran == [] and _stable(again) == _stable(first)
    assert {p: p.stat().st_size for p in sizes} == sizes  # no trial ran again


def test_interrupted_trial_is_resumed(task_file, tmp_path):
    spec = _spec(task_file, methods=["dlpo"], seeds=[0])
    full = sweep(spec, tmp_path / "a")
    run = next((tmp_path / "a" / "trials").iterdir())
    (run / "result.json").unlink()  # as if killed before the end
    again = sweep(spec, tmp_path / "a")
    assert again.ran == [run.name] and _stable(again) == _stable(full)


def test_failing_trial_is_retried_once_and_reported(task_file, tmp_path):
    spec = _spec(task_file, methods=["tgd"], seeds=[0])
    bad = spec.model_copy(
        update={"engines": [spec.engines[0].model_copy(update={"forward": "py:dlpo.nowhere:x"})]}
    )
    out = sweep(bad, tmp_path / "b")
    assert out.trials == [] and len(out.failures) == 1 and "dlpo.nowhere" in out.failures[0]["error"]
    assert out.failures[0]["attempts"] == 2  # tried, then retried once
    assert json.loads(out.files["json"].read_text())["failures"][0]["id"] == out.failures[0]["id"]


def test_process_pool_equals_serial(task_file, tmp_path):
    spec = _spec(task_file, methods=["tgd"])
    assert _stable(sweep(spec, tmp_path / "s")) == _stable(sweep(spec, tmp_path / "p", workers=2))


def test_ray_equals_serial(task_file, tmp_path):
    ray = pytest.importorskip("ray")
    spec = _spec(task_file)
    serial = sweep(spec, tmp_path / "serial")
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        distributed = sweep(spec, tmp_path / "ray", ray=True)
    finally:
        ray.shutdown()
    assert not distributed.failures and len(distributed.ran) == 4
    assert _stable(distributed) == _stable(serial)
    assert _no_wall(distributed.files["md"].read_text()) == _no_wall(serial.files["md"].read_text())
    events = read_events(next((tmp_path / "ray" / "trials").iterdir()) / "events.jsonl")
    assert events[-1]["type"] == "result"
