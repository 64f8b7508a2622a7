"""`dlpo sweep FILE`: run an experiment (methods x tasks x seeds x engines) and write its tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from dlpo.experiments.trials import Trial

Opt = typer.Option


def sweep_command(
    file: Annotated[Path, typer.Argument(help="Experiment YAML (see experiments/*.yaml).")],
    out: Annotated[Path | None, Opt("--out", help="Sweep folder. Default sweeps/<name>.")] = None,
    ray: Annotated[bool, Opt("--ray", help="Run each trial as a Ray task.")] = False,
    address: Annotated[str | None, Opt("--address", help="Ray cluster address (with --ray).")] = None,
    workers: Annotated[int | None, Opt("--workers", help="Local process pool size (without --ray).")] = None,
    tables_only: Annotated[
        bool, Opt("--tables-only", help="Run nothing: write the tables from the trials finished so far.")
    ] = False,
) -> None:
    """Run an experiment's trials (finished ones are never recomputed) and write results tables."""
    from rich.console import Console
    from rich.markup import escape

    from dlpo.errors import ConfigError
    from dlpo.experiments.estimate import estimate_wall
    from dlpo.experiments.spec import load_experiment
    from dlpo.experiments.trials import expand
    from dlpo.sweep import build_warning, pending_trials, sweep, wall_estimate

    if address is not None and not ray:
        raise ConfigError("--address needs --ray")
    if tables_only and ray:
        raise ConfigError("--tables-only runs nothing: drop --ray")
    console = Console()
    spec = load_experiment(file)
    trials = expand(spec)
    console.print(f"[bold]dlpo sweep[/]: {spec.name}, {len(trials)} trials" + (" on Ray" if ray else ""))
    pending, rows = pending_trials(spec, out)
    estimate = estimate_wall(pending, rows)
    console.print("  " + estimate.text(), soft_wrap=True)
    to_run = set(estimate.pending_ids)
    warning = build_warning(spec, pending, rows)
    if warning is not None:
        console.print("  [yellow]builds:[/] " + escape(warning), soft_wrap=True)

    def done(row: dict) -> None:
        if row["id"] not in to_run:  # finished before this sweep started: its row is in the tables
            return
        # soft_wrap: a sweep's log is read in files; a hard-wrapped trial id cannot be searched for
        console.print(f"  done {row['id']}{_outcome(row)}", soft_wrap=True)
        console.print("    " + wall_estimate(spec, out).text(), soft_wrap=True)

    result = sweep(
        spec, out, ray=ray, address=address, workers=workers, on_done=done, tables_only=tables_only
    )
    console.print(result.files["md"].read_text(encoding="utf-8"), soft_wrap=True, markup=False)
    if tables_only:
        _print_in_progress(console, trials, result.out, result.missing)
    for f in result.failures:
        console.print(f"[red]failed[/] {f['id']}: {f['error']}")
    console.print("tables: " + ", ".join(str(p) for p in result.files.values()), soft_wrap=True)
    if result.failures:
        raise typer.Exit(1)


def _print_in_progress(console: Console, trials: list[Trial], out: Path, missing: list[str]) -> None:
    """Where each started, unfinished trial stands (read from its folder; a running sweep is not
    disturbed)."""
    from dlpo.experiments.inflight import trial_progress

    waiting = set(missing)
    lines = [p.text() for t in trials if t.id in waiting and (p := trial_progress(out, t)) is not None]
    if lines:
        console.print(
            "Started, not finished (running now, or stopped: a re-run goes on from them):", soft_wrap=True
        )
        for line in lines:
            console.print("- " + line, soft_wrap=True, markup=False)


# The test scores a trial's "done" line shows: a human prompt has one prompt; an optimizer starts
# from one and chooses another by validation.
_HUMAN_SCORES = (("best_test", "prompt"),)
_OPTIMIZER_SCORES = (("start_test", "start"), ("best_test", "best-val prompt"))


def _outcome(row: dict) -> str:
    """' in 29 min: test start 0.440, best-val prompt 0.460' (the parts the row has)."""
    wall = row.get("wall_s")
    text = ""
    if isinstance(wall, int | float):
        text = f" in {wall:.0f} s" if wall < 90 else f" in {wall / 60:.0f} min"
    shown = _HUMAN_SCORES if str(row.get("method", "")).startswith("human") else _OPTIMIZER_SCORES
    parts = [f"{name} {row[key]:.3f}" for key, name in shown if isinstance(row.get(key), int | float)]
    return text + (": test " + ", ".join(parts) if parts else "")


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_command)
