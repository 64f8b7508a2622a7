"""Where an unfinished trial stands (`dlpo.experiments.inflight`, `dlpo sweep --tables-only`), with
the toy engine: a trial cut after its first step, one cut while testing, one never started."""

import yaml

from dlpo.cli.app import main
from dlpo.experiments import toy
from dlpo.experiments.inflight import trial_progress
from dlpo.experiments.spec import parse_experiment
from dlpo.experiments.trials import expand, trial_dir
from dlpo.runs.events import read_events, truncate_events
from dlpo.sweep import sweep

TOY = "py:dlpo.experiments.toy:engine"


def _data(path, seeds=(0,)):
    return {
        "name": "toy",
        "tasks": [{"name": f"file:{path}", "options": {"scorer": "numeric"}}],
        "seeds": list(seeds),
        "engines": [{"name": "toy", "forward": TOY}],
        "methods": ["tgd"],
        "train": {
            "steps": 3,
            "batch_size": 2,
            "val_limit": 3,
            "test_limit": 4,
            "budget": {"max_tokens": 10**6},
        },
    }


def _cut(run, after_type, nth=1):
    """Leave the run as a kill would: no result, the log cut after the nth event of a type."""
    (run / "result.json").unlink()
    events = read_events(run / "events.jsonl")
    seen = 0
    for i, e in enumerate(events):
        seen += e["type"] == after_type
        if seen == nth:
            truncate_events(run / "events.jsonl", i + 1)
            return events[: i + 1]
    raise AssertionError(f"no {after_type} event {nth}")


def test_progress_of_a_trial_cut_mid_run_and_of_one_cut_while_testing(tmp_path):
    spec = parse_experiment(_data(toy.write_task(tmp_path / "t.jsonl", n=12), seeds=(0, 1)))
    sweep(spec, tmp_path / "sw")
    first, second = expand(spec)
    kept = _cut(trial_dir(tmp_path / "sw", first), "usage", nth=2)  # the usage logged after step 1
    p = trial_progress(tmp_path / "sw", first)
    assert p is not None and (p.step, p.max_steps, p.testing) == (1, 3, False)
    assert p.tokens == kept[-1]["total"]["tokens_alone"] > 0 and p.max_tokens == 10**6
    assert p.text().startswith(f"{first.id}: step 1 of 3, ") and " of 1,000,000 tokens" in p.text()
    _cut(trial_dir(tmp_path / "sw", second), "test")
    q = trial_progress(tmp_path / "sw", second)
    assert q is not None and q.testing and q.step == 3 and "testing the prompts" in q.text()
    assert trial_progress(tmp_path / "elsewhere", first) is None  # never started there


def test_tables_only_says_where_each_started_trial_stands(tmp_path, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_data(toy.write_task(tmp_path / "t.jsonl", n=12), seeds=(0, 1))))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    first, second = expand(parse_experiment(yaml.safe_load(path.read_text())))
    _cut(trial_dir(out, first), "usage", nth=2)
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out), "--tables-only"]) == 0
    text = capsys.readouterr().out
    assert "Started, not finished" in text and f"- {first.id}: step 1 of 3, " in text
    assert f"- {second.id}" not in text  # finished: in the tables, not in the list
