"""`dlpo optimize`: optimize a task's prompt and print the best prompt with start/best/last scores.

With no arguments: the `demo` task, the `dlpo` preset, forward `local:qwen2.5-0.5b`, backward
`local:qwen2.5-1.5b`, and quick-run sizes (QUICK_DEMO) so it finishes in a few minutes on 2 CPU
cores. Other tasks default to the reference protocol (one epoch, full splits, acceptance on the
whole train split) unless flags say otherwise. `--resume DIR` continues a killed run with its saved
configuration (flags given with it must agree, except `--budget-calls`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dlpo.errors import ConfigError

# Quick-run sizes used for the demo task when the flags are not given (measured: see README of
# benchmarks/step_cost.py and the H4 report): 4 steps of batch 3, val 8, test 12, acceptance 6.
QUICK_DEMO: dict[str, Any] = {
    "steps": 4,
    "val_limit": 8,
    "test_limit": 12,
    "acceptance_set": 6,
    "forward_max_tokens": 160,
}

Opt = typer.Option


def optimize(
    task: Annotated[
        str | None, Opt("--task", help="Built-in task name (see `dlpo tasks`). Default: demo.")
    ] = None,
    task_file: Annotated[
        Path | None, Opt("--task-file", help="Your own task: a .jsonl or .csv file.")
    ] = None,
    input_col: Annotated[str | None, Opt("--input-col", help="Input column of --task-file.")] = None,
    target_col: Annotated[str | None, Opt("--target-col", help="Target column of --task-file.")] = None,
    data_dir: Annotated[
        Path | None, Opt("--data-dir", help="Benchmark data folder ($DLPO_DATA_DIR).")
    ] = None,
    forward: Annotated[str | None, Opt("--forward", help="Engine whose prompt is optimized.")] = None,
    backward: Annotated[str | None, Opt("--backward", help="Engine that critiques and rewrites.")] = None,
    preset: Annotated[
        str | None, Opt("--preset", help="tgd, dlpo, tlr, tdo, tsa, tlrd, tmnt, tcl, tregu.")
    ] = None,
    techniques: Annotated[
        str | None, Opt("--techniques", help="Comma-separated techniques, e.g. tsa,tcl.")
    ] = None,
    lr: Annotated[int | None, Opt("--lr", help="Textual learning rate (sentence edits per step).")] = None,
    dropout: Annotated[float | None, Opt("--dropout", help="Textual dropout rate (0-1).")] = None,
    steps: Annotated[int | None, Opt("--steps", help="Maximum optimizer steps.")] = None,
    epochs: Annotated[int | None, Opt("--epochs", help="Maximum passes over the train split.")] = None,
    batch_size: Annotated[int | None, Opt("--batch-size", help="Minibatch size (default 3).")] = None,
    seed: Annotated[int | None, Opt("--seed", help="Seed of data order and optimizer (default 0).")] = None,
    val_limit: Annotated[int | None, Opt("--val-limit", help="Use only the first N val examples.")] = None,
    test_limit: Annotated[int | None, Opt("--test-limit", help="Use only the first N test examples.")] = None,
    acceptance_set: Annotated[
        str | None, Opt("--acceptance-set", help="'train' or N (fixed random train subset).")
    ] = None,
    max_tokens: Annotated[int | None, Opt("--max-tokens", help="Cap on each forward answer.")] = None,
    budget_calls: Annotated[
        int | None, Opt("--budget-calls", help="Stop after this many model calls.")
    ] = None,
    run_dir: Annotated[Path | None, Opt("--run-dir", help="Default runs/<task>-<preset>-<time>.")] = None,
    resume: Annotated[Path | None, Opt("--resume", help="Continue the run in this folder.")] = None,
    no_cache: Annotated[bool, Opt("--no-cache", help="Do not use the run's response cache.")] = False,
) -> None:
    """Optimize a task's prompt (default: the demo task, dlpo preset, local models)."""
    flags = {k: v for k, v in locals().items() if k not in ("run_dir", "resume", "no_cache")}
    from dlpo.runs.run_dir import RunDir
    from dlpo.train import TrainConfig

    if resume is not None:
        if run_dir is not None:
            raise ConfigError("give either --resume DIR or --run-dir DIR, not both")
        saved = RunDir.open(resume).read_config()
        config = TrainConfig.from_json({**saved, **config_values(flags, base=saved)})
    else:
        config = TrainConfig.build(**config_values(flags))
    _run(config, run_dir=run_dir, resume=resume, use_cache=not no_cache)


def config_values(flags: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """TrainConfig values from CLI flags. For a new run (`base` None) unset flags take defaults
    (QUICK_DEMO for the demo task); for a resume only the flags actually given are returned."""
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
    elif "input_col" in f or "target_col" in f:
        raise ConfigError("--input-col/--target-col need --task-file")
    elif "task" in f or base is None:
        out["task"] = f.get("task", "demo")
        out["task_options"] = {"data_dir": str(Path(f["data_dir"]).resolve())} if "data_dir" in f else {}
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
    }
    out.update({names[k]: f[k] for k in names if k in f})
    if "acceptance_set" in f:
        value = str(f["acceptance_set"]).strip()
        out["acceptance_set"] = int(value) if value.isdigit() else value
    if "budget_calls" in f:
        out["budget"] = {"max_calls": f["budget_calls"]}
    if base is None and out["task"] == "demo":
        quick = dict(QUICK_DEMO)
        if "epochs" in out:
            quick.pop("steps")
        out = {**{k: v for k, v in quick.items()}, **out}
    return out


def _run(config: Any, *, run_dir: Path | None, resume: Path | None, use_cache: bool) -> None:
    from rich.console import Console

    from dlpo.engines.spec import parse_engine_spec
    from dlpo.train import fit
    from dlpo.training.progress import ProgressDisplay

    parse_engine_spec(config.forward, role="forward")  # bad specs fail before the display starts
    parse_engine_spec(config.backward, role="backward")
    console = Console()
    where = resume or run_dir
    console.print(
        f"[bold]dlpo optimize[/]: task {config.task}, recipe {config.recipe.name} "
        f"({', '.join(config.recipe.techniques) or 'no techniques'}), forward {config.forward}, "
        f"backward {config.backward}" + (f", run {where}" if where else "")
    )
    with ProgressDisplay(config.steps) as display:
        result = fit(config, run_dir=run_dir, resume=resume, on_event=display.on_event, cache=use_cache)
    print_result(console, result)
    if result.stopped == "budget":
        from dlpo.errors import BudgetExceeded

        raise BudgetExceeded(
            f"stopped: {result.message}; continue with "
            f"`dlpo optimize --resume {result.run_dir} --budget-calls N`"
        )


def print_result(console: Any, result: Any) -> None:
    from rich.panel import Panel
    from rich.table import Table

    console.print(
        Panel(result.best_prompt or "(empty)", title=f"best prompt (step {result.best.step})", expand=False)
    )
    console.print(f"run directory: {result.run_dir}")
    table = Table()
    for col in ("prompt", "step", "val", "test"):
        table.add_column(col, justify="left" if col == "prompt" else "right")

    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    for name in ("start", "best", "last"):
        rec = getattr(result, name)
        table.add_row(name, str(rec.step), fmt(rec.val), fmt(rec.test))
    console.print(table)
    total = result.usage.get("total", {})
    console.print(
        f"model calls {total.get('calls', 0)}, cache hits {total.get('cache_hits', 0)}, tokens "
        f"{total.get('prompt_tokens', 0) + total.get('completion_tokens', 0)}"
    )


def register(app: typer.Typer) -> None:
    app.command("optimize")(optimize)
