"""Expand an experiment into trials with stable ids, and summarise a finished trial's run folder.

A trial is one run: (method, task, engine, seed) with a resolved `TrainConfig`. Its id is readable
and ends with a hash of its configuration, so editing the experiment creates new trials instead of
reusing stale results. Each trial's run folder is `<sweep dir>/trials/<id>/`; a trial whose folder
holds `result.json` is finished and never recomputed. Human-prompt trials do not depend on the
seed (greedy decoding) and run once, with the first seed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlpo.experiments.spec import EnginePair, ExperimentSpec, MethodSpec, TaskSpec
from dlpo.runs.events import latest_test_events, read_events
from dlpo.runs.run_dir import RunDir
from dlpo.runs.wall import run_wall_s


@dataclass(frozen=True)
class Trial:
    id: str
    method: str
    task: str
    engine: str
    seed: int
    config: dict[str, Any]  # TrainConfig JSON

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def train_config(
    spec: ExperimentSpec, m: MethodSpec, t: TaskSpec, e: EnginePair, seed: int
) -> dict[str, Any]:
    """The TrainConfig JSON of one trial (validated: bad keys fail before anything runs)."""
    from dlpo.optim.presets import Recipe, resolve_recipe
    from dlpo.training.config import TrainConfig

    if m.method == "tgd":
        recipe = resolve_recipe(m.preset if m.techniques is None else None, m.techniques, **m.recipe)
        if m.techniques is not None:
            recipe = Recipe(**{**recipe.model_dump(), "name": m.name})
    else:
        recipe = Recipe(name=m.method, techniques=[])
    options = dict(m.options)
    if m.method == "human":
        options["prompt"] = m.prompt or "start"
    values = {
        **spec.train,
        **m.train,
        "task": t.name,
        "task_options": {**t.options},
        "recipe": recipe,
        "seed": seed,
        "forward": e.forward,
        "backward": e.backward or e.forward,
        "method_options": options,
    }
    return TrainConfig.build(**values).to_json()


def expand(spec: ExperimentSpec) -> list[Trial]:
    trials = []  # seed-major: a sweep cut short still has every method for its first seeds
    for seed in spec.seeds:
        for t in spec.tasks:
            for e in spec.engines:
                for m in spec.methods:
                    if m.method == "human" and seed != spec.seeds[0]:
                        continue
                    config = train_config(spec, m, t, e, seed)
                    digest = hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:8]
                    tid = _safe(f"{m.name}__{t.name}__{e.label}__s{seed}") + f"-{digest}"
                    trials.append(Trial(tid, m.name, t.name, e.label, seed, config))
    return trials


def trial_dir(sweep_dir: str | Path, trial: Trial) -> Path:
    return Path(sweep_dir) / "trials" / trial.id


def is_finished(path: str | Path) -> bool:
    return (Path(path) / "result.json").is_file()


def summarize(trial: Trial, path: str | Path) -> dict[str, Any]:
    """A finished trial's row: scores, per-example test scores, usage and wall time."""
    run = RunDir.open(path)
    result = run.read_result() or {}
    events = read_events(run.events_path)
    tests = latest_test_events(events)
    usage = result.get("usage") or {}
    total = usage.get("total", {})

    def scores(which: str) -> dict[str, float]:
        e = tests.get(which)
        return dict(zip(e["ids"], e["scores"])) if e else {}

    def part(which: str, key: str) -> Any:
        return (result.get(which) or {}).get(key)

    return {
        **{k: v for k, v in trial.to_dict().items() if k != "config"},
        "status": "stopped" if result.get("stopped") else "ok",
        "steps": result.get("steps"),
        "start_test": part("start", "test"),
        "best_test": part("best", "test"),
        "last_test": part("last", "test"),
        "best_val": part("best", "val"),
        "best_step": part("best", "step"),
        "best_prompt": part("best", "prompt"),
        "last_prompt": part("last", "prompt"),
        "test_scores": {w: scores(w) for w in ("start", "best", "last")},
        # answers cut off at the answer limit (None: the run predates the count)
        "test_cut_off": {w: e.get("cut_off") for w, e in tests.items()},
        "calls": total.get("calls", 0),
        "calls_alone": total.get("calls_alone", total.get("calls", 0)),
        "requests": total.get("requests", 0),
        "tokens": total.get("prompt_tokens", 0) + total.get("completion_tokens", 0),
        "tokens_alone": total.get(
            "tokens_alone", total.get("prompt_tokens", 0) + total.get("completion_tokens", 0)
        ),
        "usd": total.get("usd", 0.0),
        # None: the run predates build records; {}: no answer named its build (e.g. a remote API)
        "builds": usage.get("builds"),
        "wall_s": run_wall_s(run.path, events) or 0.0,  # less the time it lay killed before a resume
        "activity": result.get("activity", {}),
        "curve": cost_curve(events),
    }


def cost_curve(events: list[dict[str, Any]]) -> list[list[float]]:
    """[[tokens spent so far (alone), validation score], ...]: each validation of the run's current
    prompt with what the run had spent when it was logged (the usage event that follows it)."""
    out, pending = [], None
    for e in events:
        if e["type"] == "validation":
            pending = e["score"]
        elif e["type"] == "usage" and pending is not None:
            total = e.get("total", {})
            spent = total.get(
                "tokens_alone", total.get("prompt_tokens", 0) + total.get("completion_tokens", 0)
            )
            test = e.get("roles", {}).get("test") or {}
            spent -= test.get("tokens_alone", test.get("prompt_tokens", 0) + test.get("completion_tokens", 0))
            out.append([spent, pending])
            pending = None
    return out


def saved_row(results_dir: str | Path | None, trial: Trial) -> dict[str, Any] | None:
    """A finished trial's row kept under `results_dir` (None when there is none)."""
    if results_dir is None:
        return None
    path = Path(results_dir) / f"{trial.id}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def save_row(results_dir: str | Path, row: dict[str, Any]) -> Path:
    path = Path(results_dir) / f"{row['id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(row, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
    return path
