"""A full `fit` on scripted engines: the event stream, the checkpoint and the result."""

from __future__ import annotations

import json

import pytest

from dlpo.errors import ConfigError
from dlpo.runs.events import read_events
from dlpo.runs.run_dir import RunDir
from dlpo.train import TrainConfig, afit, fit

from .scripted_setup import engines, make_config, make_task

STEP_TYPES = [
    "forward_batch",
    "gradient",
    "update_request",
    "candidate",
    "edits",
    "decision",
    "validation",
    "step",
    "usage",
]
SKIPPED_STEP_TYPES = {"forward_batch", "decision", "validation", "step", "usage"}


def config(preset: str = "dlpo", **kw) -> TrainConfig:
    return make_config(preset, **kw)


async def run(tmp_path, cfg: TrainConfig, name: str = "run", **kw):
    fwd, bwd = engines()
    return await afit(
        cfg, run_dir=tmp_path / name, task=make_task(), forward_engine=fwd, backward_engine=bwd, **kw
    )


@pytest.mark.parametrize("preset", ["dlpo", "tgd"])
async def test_fit_logs_every_step_and_writes_result(tmp_path, preset):
    seen = []
    result = await run(tmp_path, config(preset), on_event=seen.append)
    events = read_events(tmp_path / "run" / "events.jsonl")
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in seen] == [e["type"] for e in events]  # the callback saw every event
    assert [e["type"] for e in events[:3]] == ["start", "validation", "usage"]
    decisions = [e for e in events if e["type"] == "decision"]
    for step in range(1, 5):
        skipped = decisions[step - 1].get("skipped", False)  # every method skips an all-correct batch
        expected = [t for t in STEP_TYPES if t in SKIPPED_STEP_TYPES] if skipped else STEP_TYPES
        assert [e["type"] for e in events if e["step"] == step and e["type"] != "test"][
            : len(expected)
        ] == expected
    tail = [e["type"] for e in events if e["type"] in ("test", "result")]
    assert tail == ["test", "test", "test", "result"]
    assert len(decisions) == 4
    if preset == "tgd":
        assert all(d["accepted"] or d["failed"] or d.get("skipped") for d in decisions)
    else:  # annealing: scored on the acceptance set, with a temperature
        assert all(
            d["score_before"] is not None and d["temperature"] is not None
            for d in decisions
            if not d["failed"] and not d.get("skipped")
        )
    # result.json agrees with the returned result and with the logged validations
    saved = json.loads((tmp_path / "run" / "result.json").read_text())
    assert saved["best"]["prompt"] == result.best_prompt and saved["stopped"] is None
    vals = [(e["step"], e["score"]) for e in events if e["type"] == "validation"]
    best_val = max(v for _, v in vals)
    assert result.best.val == best_val
    assert result.best.step == min(s for s, v in vals if v == best_val)  # ties -> earliest
    assert result.start.prompt == "Solve the problem." and result.start.step == 0
    last_step = [e for e in events if e["type"] == "step"][-1]
    assert (result.last.prompt, result.last.step) == (last_step["prompt"], 4)
    tests = {e["which"]: e["score"] for e in events if e["type"] == "test"}
    assert (tests["start"], tests["best"], tests["last"]) == (
        result.start.test,
        result.best.test,
        result.last.test,
    )
    # checkpoint after the last step
    ckpt = json.loads((tmp_path / "run" / "checkpoint.json").read_text())
    assert ckpt["step"] == 4 and ckpt["loop_done"] is True
    assert ckpt["events"] == len(events) and ckpt["finished"] is True
    # config.json is the resolved config
    cfg = RunDir.open(tmp_path / "run").read_config()
    assert cfg["recipe"]["name"] == preset and cfg["batch_size"] == 3


async def test_scores_change_with_the_prompt(tmp_path):
    """The scripted forward model depends on the prompt, so the run sees different scores."""
    await run(tmp_path, config("tgd", steps=6))
    events = read_events(tmp_path / "run" / "events.jsonl")
    batch_scores = {e["score"] for e in events if e["type"] == "forward_batch"}
    prompts = {e["prompt"] for e in events if e["type"] == "step"}
    assert len(prompts) > 1 and len(batch_scores) > 1


async def test_best_is_start_when_nothing_beats_it(tmp_path):
    """B16: with all-zero validation the starting prompt (step 0) is the best, not an empty one."""
    task = make_task()
    fwd, bwd = engines()
    fwd._fn = lambda request: "no idea"  # every answer wrong
    result = await afit(
        config("tgd", steps=2), run_dir=tmp_path / "r", task=task, forward_engine=fwd, backward_engine=bwd
    )
    assert result.best.step == 0 and result.best.prompt == task.initial_prompt and result.best.val == 0.0


async def test_epochs_and_data_order(tmp_path):
    """Without `steps`, one epoch: ceil(9/4) = 3 steps, and every train example is seen once."""
    await run(tmp_path, config("tgd", steps=None, batch_size=4))
    events = read_events(tmp_path / "run" / "events.jsonl")
    batches = [e["ids"] for e in events if e["type"] == "forward_batch"]
    assert [len(b) for b in batches] == [4, 4, 1]
    assert sorted(i for b in batches for i in b) == sorted(f"train-{i}" for i in range(9))
    # another seed gives another order
    await run(tmp_path, config("tgd", steps=None, batch_size=4, seed=2), name="run2")
    other = [
        e["ids"] for e in read_events(tmp_path / "run2" / "events.jsonl") if e["type"] == "forward_batch"
    ]
    assert other != batches


async def test_budget_stops_cleanly(tmp_path):
    result = await run(tmp_path, config("dlpo", budget={"max_calls": 40}))
    assert result.stopped == "budget" and "call budget" in result.message
    saved = json.loads((tmp_path / "run" / "result.json").read_text())
    assert saved["stopped"] == "budget"
    ckpt = json.loads((tmp_path / "run" / "checkpoint.json").read_text())
    assert ckpt["step"] == result.steps < 4
    assert read_events(tmp_path / "run" / "events.jsonl")[-1]["type"] == "stopped"


async def test_acceptance_subset_is_used(tmp_path):
    await run(tmp_path, config("dlpo", acceptance_set=4))
    events = read_events(tmp_path / "run" / "events.jsonl")
    assert events[0]["sizes"]["acceptance"] == 4
    usage = [e for e in events if e["type"] == "usage"][-1]["roles"]
    assert usage["acceptance"]["requests"] % 4 == 0 and usage["acceptance"]["requests"] > 0


def test_sync_fit_and_bad_configs(tmp_path):
    fwd, bwd = engines()
    result = fit(
        config("tgd", steps=1),
        run_dir=tmp_path / "s",
        task=make_task(),
        forward_engine=fwd,
        backward_engine=bwd,
    )
    assert result.steps == 1 and result.stopped is None
    with pytest.raises(ConfigError, match="batch_size"):
        config(batch_size=0)
    with pytest.raises(ConfigError, match="acceptance_set"):
        config(acceptance_set="all")
    with pytest.raises(ConfigError, match="bad engine spec"):
        fit(config(forward="nope"), run_dir=tmp_path / "bad", task=make_task())
    assert not (tmp_path / "bad").exists()
