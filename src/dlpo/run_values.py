"""Run values from flat option names: what `dlpo optimize`'s flags, a config file's top-level keys
and `dlpo.optimize()`'s keyword arguments have in common, turned into `TrainConfig` values.

Library code (the config-file reader, the Python API) and the CLI both use it, so the library
never imports the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError

# The main job (`dlpo optimize` with no arguments) optimizes the `tickets` task, whose difficulty is
# conventions a prompt can state (measured headroom: start 0.00, best hand-written prompt 0.53 on
# 100 test questions; docs/results.md), with sizes that fit in about 5 minutes on 2 cores and a
# test split large enough for its paired 95% interval to exclude 0 when the gain is real.
DEFAULT_TASK = "tickets"
# Quick-run sizes of the built-in generated tasks when the flags are not given.
QUICK_RUNS: dict[str, dict[str, Any]] = {
    "tickets": {
        "steps": 4,
        "val_limit": 20,
        "test_limit": 50,
        "acceptance_set": 8,
        "forward_max_tokens": 48,
        "critique_max_tokens": 128,
        "reduction_max_tokens": 160,
    },
    "demo": {
        "steps": 4,
        "val_limit": 6,
        "test_limit": 10,
        "acceptance_set": 5,
        "forward_max_tokens": 160,
        "critique_max_tokens": 150,
        "reduction_max_tokens": 200,
    },
}
QUICK_DEMO = QUICK_RUNS["demo"]

RECIPE_FLAGS = (
    "acceptance",
    "lr_schedule",
    "momentum_k",
    "contrastive_gap",
    "regularization_warmup",
    "t0",
    "t_decay",
    "hard_margin",
)
ENGINE_FLAGS = {
    "timeout": "timeout",
    "retries": "max_retries",
    "concurrency": "concurrency",
    "slots": "slots",
    "api_key_env": "api_key_env",
}
# Flags of the run options every method applies (docs/feedback.md) -> TrainConfig keys.
RUN_OPTION_FLAGS = {
    "feedback": "feedback",
    "skip_correct": "skip_correct_batches",
    "warm_start": "warm_start",
    "update_format": "update_format",
}


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def config_values(flags: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """TrainConfig values from CLI flags. For a new run (`base` None) unset flags take defaults
    (QUICK_RUNS for the generated tasks; the main job's task is DEFAULT_TASK); for a resume only the
    flags actually given are returned."""
    from dlpo.optim.presets import resolve_recipe

    out: dict[str, Any] = {}
    f = {k: v for k, v in flags.items() if v is not None}
    if "task" in f and "task_file" in f:
        raise ConfigError("give either --task or --task-file, not both")
    if "task_file" in f:
        path = Path(f["task_file"]).expanduser().resolve()
        out["task"] = f"file:{path}"
        out["task_options"] = {
            "input_col": f.get("input_col", "input"),
            "target_col": f.get("target_col", "target"),
        }
        if "scorer" in f:
            out["task_options"]["scorer"] = f["scorer"]
    elif "input_col" in f or "target_col" in f:
        raise ConfigError("--input-col/--target-col need --task-file")
    elif "task" in f or base is None:
        out["task"] = f.get("task", DEFAULT_TASK)
        out["task_options"] = {"data_dir": str(Path(f["data_dir"]).resolve())} if "data_dir" in f else {}
        if "scorer" in f:
            out["task_options"]["scorer"] = f["scorer"]
    recipe_flags = {k: f[k] for k in ("preset", "techniques", "lr", "dropout") if k in f}
    if recipe_flags or base is None:
        out["recipe"] = resolve_recipe(
            recipe_flags.get("preset"),
            recipe_flags.get("techniques"),
            lr=recipe_flags.get("lr"),
            dropout=recipe_flags.get("dropout"),
        )
    names = {
        "forward": "forward",
        "backward": "backward",
        "steps": "steps",
        "epochs": "epochs",
        "batch_size": "batch_size",
        "seed": "seed",
        "val_limit": "val_limit",
        "test_limit": "test_limit",
        "max_tokens": "forward_max_tokens",
        **RUN_OPTION_FLAGS,
    }
    out.update({names[k]: f[k] for k in names if k in f})
    if "acceptance_set" in f:
        value = str(f["acceptance_set"]).strip()
        out["acceptance_set"] = int(value) if value.isdigit() else value
    if "budget_calls" in f:
        out["budget"] = {"max_calls": f["budget_calls"]}
    engine = {k: f[flag] for flag, k in ENGINE_FLAGS.items() if flag in f}
    if engine:
        out["engine"] = {**(base or {}).get("engine", {}), **engine}
    if base is None and out["task"] in QUICK_RUNS:
        quick = dict(QUICK_RUNS[out["task"]])
        if "epochs" in out:
            quick.pop("steps")
        out = {**{k: v for k, v in quick.items()}, **out}
    return out
