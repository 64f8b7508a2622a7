"""`dlpo optimize`: optimize a task's prompt and print the best prompt with start/best/last scores.

With no arguments: the `tickets` task, the `dlpo` preset, forward `local:qwen2.5-0.5b`, backward
`local:qwen2.5-1.5b`, and quick-run sizes (run_values.QUICK_RUNS) so it finishes in a few minutes on 2 CPU
cores. Other tasks default to the reference protocol (one epoch, full splits, acceptance on the
whole train split) unless flags say otherwise. `--resume DIR` continues a killed run with its saved
configuration (flags given with it must agree, except `--budget-calls`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dlpo.errors import ConfigError
from dlpo.run_values import (  # noqa: F401 - re-exported for the tests and old callers
    DEFAULT_TASK,
    ENGINE_FLAGS,
    QUICK_DEMO,
    RECIPE_FLAGS,
    RUN_OPTION_FLAGS,
    _given,
    config_values,
)

Opt = typer.Option


def optimize(
    task: Annotated[
        str | None, Opt("--task", help=f"Built-in task name (see `dlpo tasks`). Default: {DEFAULT_TASK}.")
    ] = None,
    task_file: Annotated[
        Path | None, Opt("--task-file", help="Your own task: a .jsonl or .csv file.")
    ] = None,
    input_col: Annotated[str | None, Opt("--input-col", help="Input column of --task-file.")] = None,
    target_col: Annotated[str | None, Opt("--target-col", help="Target column of --task-file.")] = None,
    scorer: Annotated[
        str | None,
        Opt(
            "--scorer", help="How answers are scored: exact, exact-nocase, numeric, choice, label, whole, ..."
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, Opt("--data-dir", help="Benchmark data folder ($DLPO_DATA_DIR).")
    ] = None,
    forward: Annotated[str | None, Opt("--forward", help="Engine whose prompt is optimized.")] = None,
    backward: Annotated[str | None, Opt("--backward", help="Engine that critiques and rewrites.")] = None,
    preset: Annotated[
        str | None,
        Opt(
            "--preset", help="tgd, dlpo, textgrad, tlr, tdo, tsa, tlrd, tmnt, tcl, tregu; apo (APO/ProTeGi)."
        ),
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
    timeout: Annotated[
        float | None, Opt("--timeout", help="Seconds per model request (openai: 120, local: 900).")
    ] = None,
    retries: Annotated[
        int | None,
        Opt("--retries", help="Retries of a failed request (openai 4, local 2); may change on --resume."),
    ] = None,
    concurrency: Annotated[
        int | None, Opt("--concurrency", help="Requests in flight per OpenAI-compatible engine (8).")
    ] = None,
    slots: Annotated[
        int | None,
        Opt(
            "--slots",
            help="Parallel slots of each local model server (half the cores, 1-4); 1 = bit-exact reruns.",
        ),
    ] = None,
    api_key_env: Annotated[
        str | None,
        Opt("--api-key-env", help="Environment variable holding the API key (OPENAI_API_KEY)."),
    ] = None,
    acceptance: Annotated[
        str | None, Opt("--acceptance", help="always, greedy or annealing (TSA; default from techniques).")
    ] = None,
    lr_schedule: Annotated[
        str | None, Opt("--lr-schedule", help="TLRD schedule: linear, step, cosine or none.")
    ] = None,
    momentum_k: Annotated[int | None, Opt("--momentum-k", help="TMnt: gradients remembered (3).")] = None,
    contrastive_gap: Annotated[
        float | None, Opt("--contrastive-gap", help="TCL: best-worst gap to show the worst (0.15).")
    ] = None,
    regularization_warmup: Annotated[
        int | None, Opt("--regularization-warmup", help="TRegu: prompts remembered before it acts (16).")
    ] = None,
    t0: Annotated[float | None, Opt("--t0", help="TSA: starting temperature (64).")] = None,
    t_decay: Annotated[float | None, Opt("--t-decay", help="TSA: T divided by this per accept (2).")] = None,
    hard_margin: Annotated[
        float | None, Opt("--hard-margin", help="TSA: reject if worse by more than this (0.3).")
    ] = None,
    feedback: Annotated[
        str | None,
        Opt("--feedback", help="facts (scorer facts, task conventions, fix hints) or plain; every method."),
    ] = None,
    skip_correct: Annotated[
        bool | None,
        Opt("--skip-correct/--no-skip-correct", help="Skip a minibatch with no wrong answer (default on)."),
    ] = None,
    warm_start: Annotated[
        str | None,
        Opt("--warm-start", help="none, or induce: write the starting prompt from training pairs."),
    ] = None,
    update_format: Annotated[
        str | None,
        Opt("--update-format", help="json (sentence edits where the engine has structured output) or tags."),
    ] = None,
    train_limit: Annotated[
        int | None, Opt("--train-limit", help="Use only the first N train examples.")
    ] = None,
    eval_every: Annotated[int | None, Opt("--eval-every", help="Validate every N steps (1).")] = None,
    config: Annotated[
        Path | None, Opt("--config", help="YAML/TOML/JSON config file; flags override its values.")
    ] = None,
    run_dir: Annotated[Path | None, Opt("--run-dir", help="Default runs/<task>-<preset>-<time>.")] = None,
    resume: Annotated[Path | None, Opt("--resume", help="Continue the run in this folder.")] = None,
    no_cache: Annotated[bool, Opt("--no-cache", help="Do not use the run's response cache.")] = False,
    mlflow: Annotated[
        bool, Opt("--mlflow", help="Log the run to MLflow (./mlruns or $MLFLOW_TRACKING_URI).")
    ] = False,
    mlflow_experiment: Annotated[str | None, Opt("--mlflow-experiment", help="Default: dlpo.")] = None,
) -> None:
    """Optimize a task's prompt (default: the tickets task, dlpo preset, local models)."""
    given = dict(locals())
    recipe_flags = {k: given.pop(k) for k in RECIPE_FLAGS}
    extra = {k: v for k in ("train_limit", "eval_every") if (v := given.pop(k)) is not None}
    flags = {k: v for k, v in given.items() if k not in RUN_FLAGS}
    from dlpo.runs.run_dir import RunDir
    from dlpo.train import TrainConfig

    if resume is not None:
        if run_dir is not None or config is not None:
            raise ConfigError("--resume DIR continues a run with its saved config: drop --run-dir/--config")
        saved = RunDir.open(resume).read_config()
        values = config_values(flags, base=saved)
        if any(v is not None for v in recipe_flags.values()):
            values["recipe"] = {**values.get("recipe", saved["recipe"]), **_given(recipe_flags)}
        try:
            train_config = TrainConfig.from_json({**saved, **values, **extra})
        except ConfigError as exc:
            raise ConfigError(f"{RunDir.open(resume).config_path}: {exc}") from None
    else:
        from dlpo.config_file import merge_with_flags, read_config_file

        file_values = read_config_file(config) if config is not None else {}
        where = str(config) if config is not None else "flags"
        values = {**merge_with_flags(flags, file_values, where, recipe_flags), **extra}
        try:
            train_config = TrainConfig.build(**values)
        except ConfigError as exc:
            raise ConfigError(f"{config}: {exc}" if config is not None else str(exc)) from None
        run_dir = run_dir or (Path(file_values["run_dir"]) if "run_dir" in file_values else None)
        mlflow = mlflow or bool(file_values.get("mlflow"))
        mlflow_experiment = mlflow_experiment or file_values.get("mlflow_experiment")
    result = _run(train_config, run_dir=run_dir, resume=resume, use_cache=not no_cache)
    if mlflow:
        from dlpo.tracking.mlflow import log_run

        typer.echo(f"mlflow run {log_run(result.run_dir, experiment=mlflow_experiment or 'dlpo')}")
    if result.stopped == "budget":
        from dlpo.errors import BudgetExceeded

        raise BudgetExceeded(
            f"stopped: {result.message}; continue with "
            f"`dlpo optimize --resume {result.run_dir} --budget-calls N`"
        )


RUN_FLAGS = ("run_dir", "resume", "no_cache", "config", "mlflow", "mlflow_experiment")


def _run(config: Any, *, run_dir: Path | None, resume: Path | None, use_cache: bool) -> Any:
    from rich.console import Console

    from dlpo.engines.spec import parse_engine_spec
    from dlpo.train import fit
    from dlpo.training.progress import progress_display

    parse_engine_spec(config.forward, role="forward")  # bad specs fail before the display starts
    parse_engine_spec(config.backward, role="backward")
    console = Console()
    where = resume or run_dir
    console.print(
        f"[bold]dlpo optimize[/]: task {config.task}, recipe {config.recipe.name} "
        f"({', '.join(config.recipe.techniques) or 'no techniques'}), forward {config.forward}, "
        f"backward {config.backward}" + (f", run {where}" if where else "")
    )
    with progress_display(config.steps) as display:
        if resume is not None:
            for event in _logged_events(resume):  # so the display resumes at the checkpointed step
                display.on_event(event)
        result = fit(config, run_dir=run_dir, resume=resume, on_event=display.on_event, cache=use_cache)
    print_result(console, result)
    return result


def _logged_events(run_dir: Path) -> list[dict[str, Any]]:
    """The events a resume keeps: those up to the checkpoint (later ones are replayed by the run)."""
    from dlpo.runs.checkpoint import load_checkpoint
    from dlpo.runs.events import read_events
    from dlpo.runs.run_dir import RunDir

    run = RunDir.open(run_dir)
    state = load_checkpoint(run.checkpoint_path)
    if state is None:
        return []
    return read_events(run.events_path)[: int(state["events"])]


def print_result(console: Any, result: Any) -> None:
    """The best prompt, then start/best/last with their scores and each one's paired test gain over
    the start (95% interval, n), and in words whether the test sample can tell."""
    from rich.panel import Panel
    from rich.table import Table

    from dlpo.report.builds import builds_line
    from dlpo.report.cut_off import run_cut_off_note
    from dlpo.report.gain import gain_over_start, read_test_events

    console.print(
        Panel(result.best_prompt or "(empty)", title=f"best prompt (step {result.best.step})", expand=False)
    )
    console.print(f"run directory: {result.run_dir}")
    table = Table()
    for col in ("prompt", "step", "val", "test", "test gain vs start (95% CI)", "n"):
        table.add_column(col, justify="left" if col == "prompt" else "right")

    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    tests = read_test_events(result.run_dir)  # read once for the gains and the cut-off note
    gains = {w: gain_over_start(tests, w) for w in ("best", "last")}
    for name in ("start", "best", "last"):
        rec = getattr(result, name)
        g = gains.get(name)
        gain = f"{g.delta:+.3f} [{g.ci_low:+.3f}, {g.ci_high:+.3f}]" if g is not None and g.n else "-"
        n = str(g.n) if g is not None else "-"
        table.add_row(name, str(rec.step), fmt(rec.val), fmt(rec.test), gain, n)
    console.print(table)
    if gains["best"] is not None:
        console.print(gains["best"].verdict())
    note = run_cut_off_note(result.run_dir, tests)
    if note:
        console.print(note, markup=False)
    total = result.usage.get("total", {})
    console.print(
        f"model calls {total.get('calls', 0)}, cache hits {total.get('cache_hits', 0)}, tokens "
        f"{total.get('prompt_tokens', 0) + total.get('completion_tokens', 0)}"
    )
    builds = builds_line(result.usage.get("builds"))
    if builds:
        console.print(builds, markup=False)


HELP_EPILOG = (
    f"Examples: `dlpo optimize` (quick run of {DEFAULT_TASK} on the local models); "
    "`dlpo optimize --task gsm8k --preset dlpo --steps 8 --batch-size 3 --val-limit 50`; "
    "`dlpo optimize --task-file qa.jsonl --input-col question --target-col answer --techniques tsa,tcl`; "
    "`dlpo optimize --config run.yaml --seed 2` (flags override the file); "
    "`dlpo optimize --forward openai:gpt-4o-mini --backward openai:gpt-4o --budget-calls 500 --mlflow`; "
    f"`dlpo optimize --resume runs/{DEFAULT_TASK}-dlpo-20250101-120000`."
)


def register(app: typer.Typer) -> None:
    app.command("optimize", epilog=HELP_EPILOG)(optimize)
