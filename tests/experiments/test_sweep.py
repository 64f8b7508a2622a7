"""Sweeps with the toy engine: tables, re-runs recompute nothing, Ray equals serial, failures."""

import json

import pytest

from dlpo.experiments import toy
from dlpo.experiments.spec import parse_experiment
from dlpo.runs.events import read_events
from dlpo.sweep import sweep, wall_estimate

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


# What depends on the order the trials ran in: wall time, and the calls/tokens a trial made itself
# rather than found in the sweep's shared cache (`calls_alone`/`tokens_alone` do not depend on it).
ORDER_DEPENDENT = ("wall_s", "calls", "tokens", "usd")


def _stable(result):
    data = json.loads(result.files["json"].read_text())
    for row in data["results"] + data["trials"]:
        for key in ORDER_DEPENDENT:
            row.pop(key, None)
    return data


def _no_wall(md):
    """The Markdown tables without the results table's order-dependent columns (calls made, $, wall)."""
    out = []
    for line in md.splitlines():
        cells = line.split("|")
        if len(cells) == 16:  # the results table: drop "calls made", "$" and "wall s"
            cells = cells[:10] + cells[11:13]
        out.append("|".join(cells))
    return out


def test_sweep_writes_tables_and_rerun_recomputes_nothing(task_file, tmp_path):
    spec = _spec(task_file)
    first = sweep(spec, tmp_path / "sw")
    assert not first.failures and len(first.ran) == 4
    assert {r["method"] for r in first.results} == {"tgd", "apo"} and all(r["n"] == 2 for r in first.results)
    md = first.files["md"].read_text()
    assert "| tgd |" in md and "Paired statistics" in md and first.files["csv"].exists()
    assert "cut off at the answer limit" not in md  # the toy's answers fit in the default limit
    sizes = {p: p.stat().st_size for p in (tmp_path / "sw" / "trials").glob("*/events.jsonl")}
    again = sweep(spec, tmp_path / "sw")
    assert again.ran == [] and _stable(again) == _stable(first)
    assert {p: p.stat().st_size for p in sizes} == sizes  # no trial ran again


def test_the_tables_count_the_best_prompts_test_answers_cut_off_at_the_answer_limit(task_file, tmp_path):
    """The toy answers "The sum is computed. Answer: N" (6 words); a 3-token limit cuts every answer
    before its answer line, as a long-winded real answer would be cut."""
    train = {"steps": 1, "batch_size": 3, "val_limit": 4, "test_limit": 6, "forward_max_tokens": 3}
    cut = sweep(_spec(task_file, methods=["tgd"], train=train), tmp_path / "sw")
    assert [t["test_cut_off"] for t in cut.trials] == [{"start": 6, "best": 6, "last": 6}] * 2
    assert all(t["best_test"] == 0.0 for t in cut.trials)
    md = cut.files["md"].read_text()
    assert "Test answers of the best-validation prompts cut off at the answer limit" in md
    assert " tgd 12/12.\n" in md


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


def test_each_trial_is_reported_when_it_ends_not_when_the_sweep_does(task_file, tmp_path):
    started = []  # trial folders that exist when each trial is reported

    def done(row):
        started.append(len(list((tmp_path / "s" / "trials").iterdir())))

    out = sweep(_spec(task_file), tmp_path / "s", on_done=done)
    assert len(out.trials) == 4 and started == [1, 2, 3, 4]


def test_human_prompt_trials_run_first_and_the_tables_keep_the_experiments_order(task_file, tmp_path):
    reported = []
    out = sweep(_spec(task_file, methods=["tgd", "human:cot"]), tmp_path / "h", on_done=reported.append)
    assert [r["method"] for r in reported] == ["human:cot", "tgd", "tgd"]  # seeds 0 and 1 of tgd
    assert [r["method"] for r in out.results] == ["tgd", "human:cot"]


def test_process_pool_equals_serial(task_file, tmp_path):
    spec = _spec(task_file, methods=["tgd"])
    reported = []
    pooled = sweep(spec, tmp_path / "p", workers=2, on_done=lambda row: reported.append(row["id"]))
    assert _stable(sweep(spec, tmp_path / "s")) == _stable(pooled)
    assert sorted(reported) == sorted(r["id"] for r in pooled.trials)  # each once, in the order they end


def test_ray_equals_serial(task_file, tmp_path):
    ray = pytest.importorskip("ray")
    spec = _spec(task_file)
    serial = sweep(spec, tmp_path / "serial")
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        reported = []
        distributed = sweep(spec, tmp_path / "ray", ray=True, on_done=lambda row: reported.append(row["id"]))
    finally:
        ray.shutdown()
    assert not distributed.failures and len(distributed.ran) == 4
    assert sorted(reported) == sorted(r["id"] for r in distributed.trials)
    assert _stable(distributed) == _stable(serial)
    assert _no_wall(distributed.files["md"].read_text()) == _no_wall(serial.files["md"].read_text())
    events = read_events(next((tmp_path / "ray" / "trials").iterdir()) / "events.jsonl")
    assert events[-1]["type"] == "result"


def test_trials_share_answers_and_their_tables_equal_a_trial_by_trial_sweep(task_file, tmp_path):
    """2 methods x 2 seeds: the starting prompt's test answers are computed once per sweep (the
    shared cache's counters say so), and every table equals that of a sweep without sharing."""
    from dlpo.cache import ResponseCache

    spec = _spec(task_file, methods=["tgd", "dlpo"])
    shared = sweep(spec, tmp_path / "shared")
    alone_spec = spec.model_copy(update={"runner": spec.runner.model_copy(update={"share_cache": False})})
    alone = sweep(alone_spec, tmp_path / "alone")
    assert not shared.failures and not alone.failures and len(shared.trials) == 4
    assert _stable(shared) == _stable(alone)
    assert _no_wall(shared.files["md"].read_text()) == _no_wall(alone.files["md"].read_text())
    rows = {r["id"]: r for r in shared.trials}
    alone_rows = {r["id"]: r for r in alone.trials}
    assert all(alone_rows[i]["calls"] == alone_rows[i]["calls_alone"] for i in alone_rows)
    assert all(rows[i]["calls_alone"] == alone_rows[i]["calls_alone"] for i in rows)
    made = sum(r["calls"] for r in rows.values())
    assert made < sum(r["calls_alone"] for r in rows.values())
    # the starting prompt's test answers: asked by all four trials, made once
    test_usage = []
    for run in sorted((tmp_path / "shared" / "trials").iterdir()):
        usage = [e for e in read_events(run / "events.jsonl") if e["type"] == "usage"][-1]
        test_usage.append(usage["roles"]["test"])
    n_test = spec.train["test_limit"]
    assert min(u["shared_hits"] for u in test_usage) == 0  # the first trial to test it
    assert sum(u["shared_hits"] for u in test_usage) >= 3 * n_test  # the other three did not pay
    assert len(ResponseCache(tmp_path / "shared" / "shared-cache.sqlite")) == made


def test_committed_results_carry_a_sweep_to_another_machine(task_file, tmp_path):
    """Finished trials' rows kept under `results:` are not run again, even without the sweep folder
    (what a later session or another machine has after a clone)."""
    spec = _spec(task_file, methods=["tgd"], results=str(tmp_path / "results"))
    first = sweep(spec, tmp_path / "here")
    rows = sorted((tmp_path / "results").glob("*.json"))
    assert len(rows) == 2 and all(json.loads(p.read_text())["curve"] for p in rows)
    elsewhere = sweep(spec, tmp_path / "elsewhere")  # a new sweep folder: no run folders, no caches
    assert elsewhere.ran == [] and not (tmp_path / "elsewhere" / "trials").exists()
    assert _stable(elsewhere) == _stable(first)


def test_tables_only_runs_nothing_and_names_the_missing_trials(task_file, tmp_path):
    """`--tables-only`: the tables of the trials finished so far (kept rows included), no model call,
    the others listed as not run yet; a later full sweep then runs only those."""
    kept = tmp_path / "kept"
    one_seed = sweep(_spec(task_file, seeds=(0,), results=str(kept)), tmp_path / "sw")
    assert len(one_seed.ran) == 2 and len(list(kept.glob("*.json"))) == 2
    # Known wall times: a scripted trial can finish in under 0.05 s, and a row whose wall time
    # reads 0 is no basis for an estimate (its timing was lost), so the kept rows get real ones.
    walls = {}
    for n, row_file in enumerate(sorted(kept.glob("*.json"))):
        row = json.loads(row_file.read_text())
        walls[row["method"]] = row["wall_s"] = 30.0 + 12.5 * n
        row_file.write_text(json.dumps(row))
    spec = _spec(task_file, seeds=(0, 1), results=str(kept))
    partial = sweep(spec, tmp_path / "fresh", tables_only=True)
    assert not (tmp_path / "fresh" / "trials").exists()  # nothing ran
    assert len(partial.trials) == 2 and len(partial.missing) == 2 and partial.ran == []
    assert all("__s1-" in trial_id for trial_id in partial.missing)
    md = partial.files["md"].read_text()
    assert "Not run yet: 2 of 4 trials" in md and all(m in md for m in partial.missing)
    assert json.loads(partial.files["json"].read_text())["missing"] == partial.missing
    # the seed-1 trials are estimated from their methods' seed-0 wall times
    estimate = wall_estimate(spec, tmp_path / "fresh")
    assert estimate.pending == 2 and estimate.without_basis == ()
    assert estimate.seconds == pytest.approx(sum(walls.values()))
    full = sweep(spec, tmp_path / "fresh")
    assert sorted(full.ran) == sorted(partial.missing) and full.missing == []
    assert "Not run yet" not in full.files["md"].read_text()
    assert wall_estimate(spec, tmp_path / "fresh").text() == "every trial is finished"
