"""`dlpo.optimize`: the five-line API.

    import dlpo
    task = dlpo.Task.from_records(rows, input="question", target="answer", metric=my_metric)
    result = dlpo.optimize(task, preset="dlpo", forward="local", backward="local", steps=8)
    print(result.best.prompt, result.best.test)

It builds the same `TrainConfig` the CLI builds and runs `fit`, so a run made from Python has the
same run folder, events, checkpoints, `--resume` and `dlpo report` as one made with `dlpo optimize`.
Every extension point takes a name (as on the command line) or an object (as GEPA's `optimize`
takes `CandidateSelector | "pareto"`): `preset` a name or a `Recipe`; `techniques` names or
`Technique` objects, mixed; `acceptance` a name or an `AcceptanceRule`; `lr_schedule` a name or a
`t -> lr` function. Objects are not written into the run's config, only their names: to resume
such a run, pass the same objects again with `resume=`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError
from dlpo.optim.base import AcceptanceRule, Technique
from dlpo.optim.presets import Components, Recipe, resolve_recipe
from dlpo.tasks.base import Task
from dlpo.training.result import FitResult

ACCEPTANCE_NAMES = ("always", "greedy", "annealing")
SCHEDULE_NAMES = ("linear", "step", "cosine", "none")


def optimize(
    task: Task | str,
    preset: str | Recipe = "dlpo",
    *,
    forward: str = "local",
    backward: str = "local",
    steps: int | None = 8,
    epochs: int | None = None,
    batch_size: int = 3,
    seed: int = 0,
    techniques: Sequence[str | Technique] | None = None,
    acceptance: str | AcceptanceRule | None = None,
    lr_schedule: str | Callable[[int], float] | None = None,
    metric: Any = None,
    on_error: str | None = None,
    metric_timeout: float | None = None,
    prompt: str | None = None,
    run_dir: str | Path | None = None,
    resume: str | Path | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    stop_after: int | None = None,
    **options: Any,
) -> FitResult:
    """Optimize `task`'s prompt and return its starting, best-validation and last prompts with
    their validation and test scores (`result.best.prompt`, `result.best.test`).

    `task`: a `Task`, a built-in task name ("demo", "gsm8k", "bbh:navigate", ...) or a .jsonl/.csv
    path (with `input_col`/`target_col` in `options`). `forward`/`backward`: engine specs (`local`,
    `openai:gpt-4o-mini`, `openai:MODEL@http://host:port/v1`). `metric`, `on_error`,
    `metric_timeout`, `prompt` override the task's (see `dlpo.tasks.metric`). `options` are any other
    `TrainConfig` field (`val_limit`, `test_limit`, `acceptance_set`, `feedback`, `warm_start`,
    `budget`, `engine`, ...) or recipe field (`lr`, `dropout`, `t0`, ...). `techniques` replaces
    the preset's technique list (names and objects mixed). `stop_after=k` ends the run after step k
    as if it had been killed (it can then be resumed).
    """
    from dlpo.train import TrainConfig, fit

    task_obj = _task(task, options)
    if metric is not None or on_error is not None or metric_timeout is not None or prompt is not None:
        task_obj = _with(
            task_obj, metric=metric, on_error=on_error, metric_timeout=metric_timeout, prompt=prompt
        )
    names, objects = _split_techniques(techniques)
    recipe_fields = {k: options.pop(k) for k in list(options) if k in Recipe.model_fields}
    if isinstance(acceptance, str):
        if acceptance not in ACCEPTANCE_NAMES:
            raise ConfigError(
                f"acceptance {acceptance!r}: use one of {', '.join(ACCEPTANCE_NAMES)} or an object"
            )
        recipe_fields["acceptance"] = acceptance
    if isinstance(lr_schedule, str):
        recipe_fields["lr_schedule"] = lr_schedule
    recipe = _recipe(preset, names, recipe_fields)
    components = Components(
        techniques=objects,
        acceptance=None if isinstance(acceptance, str) else acceptance,
        lr_schedule=None if isinstance(lr_schedule, str) else lr_schedule,
    )
    values: dict[str, Any] = {
        "task": task_obj.name,
        "recipe": recipe,
        "steps": steps,
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "forward": forward,
        "backward": backward,
        **options,
    }
    config = None if resume is not None else TrainConfig.build(**values)
    return fit(
        config,
        run_dir=run_dir,
        resume=resume,
        task=task_obj,
        on_event=on_event,
        stop_after=stop_after,
        components=components if components.names() else None,
    )


def _task(task: Task | str, options: dict[str, Any]) -> Task:
    if isinstance(task, Task):
        return task
    from dlpo.tasks.registry import load_task

    keys = ("input_col", "target_col", "scorer", "split_sizes", "data_dir", "id_col", "split_col")
    task_options = {k: options.pop(k) for k in keys if k in options}
    name = str(task)
    if Path(name).suffix.lower() in (".jsonl", ".ndjson", ".csv", ".tsv") and not name.startswith("file:"):
        name = f"file:{Path(name).expanduser().resolve()}"
    return load_task(name, **task_options)


def _with(task: Task, **changes: Any) -> Task:
    from dataclasses import replace

    fields = {k: v for k, v in changes.items() if v is not None}
    if "prompt" in fields:
        fields["initial_prompt"] = fields.pop("prompt")
    if "on_error" in fields and fields["on_error"] not in ("raise", "score_zero"):
        raise ConfigError(f"on_error {fields['on_error']!r}: use 'raise' or 'score_zero'")
    return replace(task, **fields)


def _split_techniques(
    techniques: Sequence[str | Technique] | None,
) -> tuple[list[str] | None, list[Technique]]:
    if techniques is None:
        return None, []
    if isinstance(techniques, str):
        return [t.strip() for t in techniques.split(",") if t.strip()], []
    names = [t for t in techniques if isinstance(t, str)]
    objects = [t for t in techniques if not isinstance(t, str)]
    for obj in objects:
        missing = [
            m
            for m in ("name", "sections", "check", "observe", "state_dict", "load_state_dict")
            if not hasattr(obj, m)
        ]
        if missing:
            raise ConfigError(f"technique {obj!r} lacks {', '.join(missing)} (see dlpo.optim.base.Technique)")
    return names, objects


def _recipe(preset: str | Recipe, names: list[str] | None, fields: dict[str, Any]) -> Recipe:
    if isinstance(preset, Recipe):
        data = {**preset.model_dump(), **fields}
        if names is not None:
            data["techniques"] = names
        return Recipe(**data)
    return resolve_recipe(preset, names, **fields)
