"""Real local model: a tiny APO run, and a tiny tgd vs dlpo sweep on demo that writes a results table."""

import json

import pytest

from dlpo.experiments.spec import parse_experiment
from dlpo.runs.events import read_events
from dlpo.sweep import sweep

pytestmark = pytest.mark.model

TINY = {
    "steps": 1,
    "batch_size": 1,
    "val_limit": 1,
    "test_limit": 2,
    "acceptance_set": 1,
    "forward_max_tokens": 48,
    "critique_max_tokens": 32,
    "reduction_max_tokens": 32,
}
APO = {
    "beam_width": 1,
    "minibatch": 1,
    "n_gradients": 1,
    "errors_per_gradient": 1,
    "mc_samples": 0,
    "max_expansion": 1,
    "eval_rounds": 1,
    "arms_per_round": 2,
    "samples_per_eval": 1,
    "gradient_max_tokens": 48,
    "edit_max_tokens": 64,
}


def _spec(methods):
    return parse_experiment(
        {
            "name": "tiny",
            "tasks": ["demo"],
            "seeds": [0],
            "engines": [{"name": "q0.5b", "forward": "local:qwen2.5-0.5b"}],
            "methods": methods,
            "train": TINY,
        }
    )


def test_tiny_apo_run_on_the_real_model(tmp_path, small_model_path):
    out = sweep(_spec([{"name": "apo", "method": "apo", "options": APO}]), tmp_path / "apo")
    assert not out.failures, out.failures
    [row] = out.trials
    assert row["steps"] == 1 and row["calls"] > 0 and 0.0 <= row["best_test"] <= 1.0
    run = tmp_path / "apo" / "trials" / row["id"]
    roles = json.loads((run / "result.json").read_text())["usage"]["roles"]
    assert {"forward", "validation", "test"} <= set(roles)
    events = read_events(run / "events.jsonl")
    [expansion] = [e for e in events if e["type"] == "apo_expansion"]
    [selection] = [e for e in events if e["type"] == "apo_selection"]
    if expansion["batch_score"] < 1.0:  # an error: the backward model was asked for reasons
        assert roles["backward"]["requests"] == 1 and expansion["gradients"]
    assert selection["beam"] == [selection["candidates"][i] for i in selection["kept"]]


def test_tiny_tgd_vs_dlpo_table_on_demo(tmp_path, small_model_path):
    out = sweep(_spec(["tgd", "dlpo"]), tmp_path / "cmp")
    assert not out.failures, out.failures
    md = out.files["md"].read_text()
    assert "| demo | q0.5b | tgd | 1 |" in md and "| demo | q0.5b | dlpo | 1 |" in md
    assert [p["a"] for p in out.pairs] == ["tgd"] and out.pairs[0]["examples"] == 2
    # both trials share one server, so one build made every answer; the table names it
    [build] = {b for t in out.trials for b in t["builds"]["local:qwen2.5-0.5b"]}
    assert f"llama-server builds of the answers: `{build}` (2 trials)" in md
