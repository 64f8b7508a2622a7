"""APO with scripted engines: beam bookkeeping, parsing, request counts, run folder and resume."""

import json

import pytest

from dlpo.baselines.apo import APO, ApoOptions, estimate_calls
from dlpo.baselines.apo_prompts import parse_items
from dlpo.engines.client import LLMClient
from dlpo.errors import ConfigError
from dlpo.experiments import toy
from dlpo.runs.events import read_events
from dlpo.runs.wall import read_resumes, run_wall_s
from dlpo.tasks.registry import load_task
from dlpo.train import TrainConfig, fit
from dlpo.training.config import TrainConfig as TC


@pytest.fixture
def sums(tmp_path):
    path = toy.write_task(tmp_path / "sums.jsonl", n=30)
    return load_task(f"file:{path}", scorer="numeric"), path


def test_parse_items_tags_fallback_and_truncation():
    assert parse_items("x <START>a<END> y <START> b <END>") == ["a", "b"]
    assert parse_items("Output: Be brief.\n\nmore") == ["Be brief."]
    assert parse_items("<START>a<END><START>cut off", finish_reason="length") == ["a"]
    assert parse_items("<START>a<END><START>a<END>") == ["a"]
    echo = 'Write a system prompt for a language model. Your current prompt is:\n"Be brief."'
    assert parse_items(echo) == []  # an echo of the request is not a prompt
    assert parse_items("The prompt is vague and", finish_reason="length") == []
    assert parse_items("The prompt is vague and", finish_reason="length", keep_truncated=True) == [
        "The prompt is vague and"
    ]


def test_options_errors_name_the_key():
    with pytest.raises(ConfigError, match="beam_widht"):
        ApoOptions.build({"beam_widht": 3})


async def test_round_expands_every_beam_prompt_and_keeps_beam_width(sums):
    task, _ = sums
    engine = toy.ToyEngine()
    fwd, bwd = LLMClient(engine), LLMClient(engine, ledger=None)
    o = ApoOptions(
        beam_width=2,
        minibatch=8,
        n_gradients=2,
        mc_samples=1,
        max_expansion=3,
        eval_rounds=2,
        arms_per_round=3,
        samples_per_eval=4,
    )
    apo = APO(task, task.train, fwd, bwd, o, seed=0, start=task.initial_prompt, forward_max_tokens=64)
    exps, cands, sel = await apo.round()
    assert len(exps) == 1 and exps[0].parent == task.initial_prompt
    assert len(exps[0].successors) <= 3
    assert cands[0] == task.initial_prompt and len(cands) == len(set(cands))
    assert len(apo.beam) == min(2, len(cands))
    assert apo.beam == [cands[i] for i in sel.kept]
    exps2, _, _ = await apo.round()
    assert [e.parent for e in exps2] == [p for p in [cands[i] for i in sel.kept]]
    roles = bwd.ledger.roles
    assert roles["backward"].calls >= 2 and roles["optimizer"].calls >= 1


async def test_same_seed_same_search(sums):
    task, _ = sums
    o = ApoOptions(
        beam_width=2, minibatch=6, n_gradients=2, eval_rounds=2, arms_per_round=3, samples_per_eval=3
    )
    beams = []
    for _ in range(2):
        c = LLMClient(toy.ToyEngine())
        apo = APO(task, task.train, c, c, o, seed=5, start="Be exact.", forward_max_tokens=64)
        await apo.round()
        beams.append(list(apo.beam))
    assert beams[0] == beams[1]


def test_estimate_calls_grows_with_the_knobs():
    small = ApoOptions(minibatch=3, n_gradients=1)
    assert estimate_calls(small, 2, 4, 8) < estimate_calls(ApoOptions(), 2, 4, 8)


def _config(path, **kw):
    from dlpo.baselines.apo_run import apo_recipe

    return TC.build(
        task=f"file:{path}",
        task_options={"scorer": "numeric"},
        recipe=apo_recipe(),
        steps=kw.pop("steps", 2),
        val_limit=5,
        test_limit=6,
        seed=1,
        forward="py:x:y",
        backward="py:x:y",
        method_options={
            "beam_width": 2,
            "minibatch": 6,
            "n_gradients": 1,
            "eval_rounds": 1,
            "arms_per_round": 3,
            "samples_per_eval": 3,
        },
        **kw,
    )


def test_fit_dispatches_to_apo_and_writes_a_run(sums, tmp_path):
    _, path = sums
    e = toy.ToyEngine()
    r = fit(_config(path), run_dir=tmp_path / "run", forward_engine=e, backward_engine=e)
    assert r.steps == 2 and r.start.test is not None and r.best.test is not None
    saved = json.loads((tmp_path / "run" / "result.json").read_text())
    assert saved["best"]["prompt"] == r.best.prompt
    types = [ev["type"] for ev in read_events(tmp_path / "run" / "events.jsonl")]
    assert types.count("apo_selection") == 2 and types.count("step") == 2 and types[-1] == "result"
    assert {"test", "validation", "usage"} <= set(types)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["recipe"]["name"] == "apo"


def test_killed_apo_run_resumes_to_the_same_result(sums, tmp_path):
    _, path = sums
    e = toy.ToyEngine()
    full = fit(_config(path), run_dir=tmp_path / "a", forward_engine=e, backward_engine=e)
    part = fit(_config(path), run_dir=tmp_path / "b", forward_engine=e, backward_engine=e, stop_after=1)
    assert part.stopped == "requested"
    resumed = fit(None, resume=tmp_path / "b", forward_engine=e, backward_engine=e)
    assert (resumed.best.prompt, resumed.best.test, resumed.last.test) == (
        full.best.prompt,
        full.best.test,
        full.last.test,
    )
    assert resumed.usage["total"]["calls"] < full.usage["total"]["calls"]  # replayed from the cache


def test_a_resumed_apo_run_keeps_the_working_time_of_the_log_its_replay_emptied(sums, tmp_path):
    """APO resumes by replaying from its start, emptying the event log: the killed process's
    working time is carried, so the run's wall time is not just the (cached, fast) replay's."""
    _, path = sums
    e = toy.ToyEngine()
    run = tmp_path / "b"
    fit(_config(path), run_dir=run, forward_engine=e, backward_engine=e, stop_after=1)
    # pretend the killed process worked for an hour: its events spread over 3600 s
    old = read_events(run / "events.jsonl")
    spread = [{**ev, "t": old[0]["t"] - 3600 + 3600 * i / (len(old) - 1)} for i, ev in enumerate(old)]
    (run / "events.jsonl").write_text("".join(json.dumps(ev) + "\n" for ev in spread))
    fit(None, resume=run, forward_engine=e, backward_engine=e)
    (resume,) = read_resumes(run)
    assert resume["events"] == 0 and resume["carried_s"] == 3600
    wall = run_wall_s(run, read_events(run / "events.jsonl"))
    assert wall is not None and 3600 <= wall < 3660


def test_apo_refuses_techniques(sums, tmp_path):
    from dlpo.optim.presets import Recipe

    _, path = sums
    cfg = _config(path).model_copy(update={"recipe": Recipe(name="apo", techniques=["tsa"])})
    e = toy.ToyEngine()
    with pytest.raises(ConfigError, match="no techniques"):
        fit(cfg, run_dir=tmp_path / "r", forward_engine=e, backward_engine=e)


def test_trainconfig_without_method_options_keeps_old_json():
    assert "method_options" not in TrainConfig().to_json()


def test_apo_and_human_are_presets_without_techniques():
    from dlpo.optim.presets import resolve_recipe

    assert resolve_recipe("apo").name == "apo" and resolve_recipe("apo").techniques == []
    assert resolve_recipe("human").name == "human"
    with pytest.raises(ConfigError, match="its own method"):
        resolve_recipe("apo", techniques="tsa")
    with pytest.raises(ConfigError, match="apo"):
        resolve_recipe("nope")


def test_cli_config_values_for_preset_apo():
    from dlpo.cli.optimize import config_values

    values = config_values({"preset": "apo", "task": "demo"})
    assert values["recipe"].name == "apo"
    assert TC.build(**values).recipe.name == "apo"


def test_a_killed_budgeted_apo_run_resumes_to_where_the_uninterrupted_run_stopped(sums, tmp_path):
    """APO resumes by replaying from its start: the replayed calls are charged to the budget, so the
    resumed run stops at the same round as the uninterrupted one instead of spending a second budget."""
    _, path = sums
    e = toy.ToyEngine()
    fit(_config(path, steps=4), run_dir=tmp_path / "u", forward_engine=e, backward_engine=e)
    after_round_1 = next(
        ev["total"]["calls_alone"]
        for ev in read_events(tmp_path / "u" / "events.jsonl")
        if ev["type"] == "usage" and ev["step"] == 1
    )
    budget = {"max_calls": after_round_1 + 1, "then": "test"}  # round 1 fits, round 2 does not
    full = fit(
        _config(path, steps=4, budget=budget), run_dir=tmp_path / "a", forward_engine=e, backward_engine=e
    )
    assert full.stopped == "budget" and full.steps < 4
    part = fit(
        _config(path, steps=4, budget=budget),
        run_dir=tmp_path / "b",
        forward_engine=e,
        backward_engine=e,
        stop_after=1,
    )
    assert part.stopped == "requested"
    resumed = fit(None, resume=tmp_path / "b", forward_engine=e, backward_engine=e)
    assert (resumed.steps, resumed.stopped, resumed.best.prompt, resumed.best.test) == (
        full.steps,
        full.stopped,
        full.best.prompt,
        full.best.test,
    )
    whole, again = full.usage["total"], resumed.usage["total"]
    assert again["replayed"] > 0 and again["calls"] < whole["calls"]
    assert (again["calls_alone"], again["tokens_alone"]) == (whole["calls_alone"], whole["tokens_alone"])
