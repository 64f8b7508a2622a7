"""The run options every method applies (feedback, skip_correct_batches, warm_start, update_format):
recorded in config.json and the start event, set by CLI flags and config files, reaching the
gradient of every TGD preset, and old config.json files still resume."""

from __future__ import annotations

import json

import pytest

from dlpo.cli.optimize import config_values
from dlpo.config_file import merge_with_flags
from dlpo.runs.events import read_events
from dlpo.tasks.conventions import CONVENTIONS_HEADER
from dlpo.train import afit

from .scripted_setup import engines, make_config, make_task

OPTIONS = ("feedback", "skip_correct_batches", "warm_start", "update_format")


async def run(tmp_path, cfg, name="run", **kw):
    fwd, bwd = engines()
    return await afit(
        cfg, run_dir=tmp_path / name, task=make_task(), forward_engine=fwd, backward_engine=bwd, **kw
    )


@pytest.mark.parametrize("preset", ["tgd", "textgrad", "dlpo", "tlr"])
@pytest.mark.parametrize("feedback", ["facts", "plain"])
async def test_the_switch_reaches_the_gradient_of_every_preset(tmp_path, preset, feedback):
    cfg = make_config(preset, steps=2, feedback=feedback, skip_correct_batches=False)
    await run(tmp_path, cfg)
    events = read_events(tmp_path / "run" / "events.jsonl")
    start = events[0]
    assert start["run_options"]["feedback"] == feedback and start["task_facts"]["kind"] == "number"
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert {k: saved[k] for k in OPTIONS} == {
        "feedback": feedback,
        "skip_correct_batches": False,
        "warm_start": "none",
        "update_format": "json",  # the default; the scripted engines have no structured output
    }
    gradients = [e["text"] for e in events if e["type"] == "gradient"]
    assert gradients
    for text in gradients:
        assert (CONVENTIONS_HEADER in text) == (feedback == "facts")
        assert ("Facts from the scorer" in text) == (feedback == "facts" and "were wrong" in text)


def test_cli_flags_and_config_files_set_the_run_options():
    flags = {"feedback": "plain", "skip_correct": False, "warm_start": "induce", "update_format": "json"}
    values = config_values(flags)
    assert {k: values[k] for k in OPTIONS} == {
        "feedback": "plain",
        "skip_correct_batches": False,
        "warm_start": "induce",
        "update_format": "json",
    }
    file_values = {"feedback": "plain", "skip_correct_batches": False, "warm_start": "induce"}
    merged = merge_with_flags({"feedback": "facts", "skip_correct": None}, file_values)
    assert merged["feedback"] == "facts"  # the flag wins
    assert merged["skip_correct_batches"] is False and merged["warm_start"] == "induce"  # the file's


async def test_an_old_config_json_resumes(tmp_path):
    cfg = make_config("tgd", steps=3)
    await run(tmp_path, cfg, stop_after=1)
    path = tmp_path / "run" / "config.json"
    old = json.loads(path.read_text())
    for key in OPTIONS:  # as written before the run options existed
        del old[key]
    path.write_text(json.dumps(old))
    result = await run(tmp_path, None, resume=tmp_path / "run")
    assert result.steps == 3 and result.stopped is None


async def test_a_resume_may_not_change_a_run_option(tmp_path):
    from dlpo.errors import ConfigError

    await run(tmp_path, make_config("tgd", steps=3), stop_after=1)
    with pytest.raises(ConfigError, match="feedback"):
        await run(tmp_path, make_config("tgd", steps=3, feedback="plain"), resume=tmp_path / "run")


def test_the_cli_flags_reach_the_run(tmp_path, capsys, scripted_engines):
    from dlpo.cli.app import main

    run_dir = tmp_path / "run"
    argv = ["optimize", "--steps", "1", "--preset", "tgd", "--run-dir", str(run_dir)]
    flags = ["--feedback", "plain", "--no-skip-correct", "--warm-start", "induce", "--update-format", "json"]
    assert main([*argv, *flags]) == 0
    saved = json.loads((run_dir / "config.json").read_text())
    assert {k: saved[k] for k in OPTIONS} == {
        "feedback": "plain",
        "skip_correct_batches": False,
        "warm_start": "induce",
        "update_format": "json",
    }
    assert "warm_start" in json.loads((run_dir / "result.json").read_text())
    assert main([*argv[:-1], str(tmp_path / "bad"), "--feedback", "loud"]) == 2
    assert "feedback" in capsys.readouterr().err


@pytest.mark.parametrize("feedback", ["facts", "plain"])
async def test_apo_applies_the_switch_like_the_loop(tmp_path, feedback):
    from dlpo.engines.scripted import ScriptedEngine

    def apo_backward(request):
        user = request.messages[-1].content
        if "reasons why the prompt" in user:
            return "<START>The prompt does not ask for care.<END>"
        if "improved prompts" in user:
            return "<START>Solve the problem carefully.<END>"
        return "<START>Solve it with care.<END>"

    fwd, _ = engines()
    bwd = ScriptedEngine(apo_backward, name="bwd")
    options = {"minibatch": 3, "n_gradients": 1, "eval_rounds": 1, "samples_per_eval": 2, "mc_samples": 0}
    cfg = make_config("apo", steps=1, feedback=feedback, skip_correct_batches=False, method_options=options)
    await afit(cfg, run_dir=tmp_path / "apo", task=make_task(), forward_engine=fwd, backward_engine=bwd)
    start = read_events(tmp_path / "apo" / "events.jsonl")[0]
    assert start["method"] == "apo" and start["run_options"]["feedback"] == feedback
    users = [r.messages[-1].content for r in bwd.requests if "examples wrong" in r.messages[-1].content]
    assert users
    for user in users:
        assert (CONVENTIONS_HEADER in user) == (feedback == "facts")
        assert ("Prediction:" in user) == (feedback == "plain")
