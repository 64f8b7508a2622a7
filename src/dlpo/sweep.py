"""`sweep(FILE)`: run an experiment's trials and write its results tables (façade over
`dlpo.experiments`).

    outcome = sweep("experiments/compare_demo.yaml", out="sweeps/compare_demo")

Writes `<out>/results.{md,csv,json}` (and `<out>/transfer.{md,csv,json}` when the experiment asks
for transfer); re-running recomputes only the trials that are not finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpo.experiments.estimate import WallEstimate, estimate_wall
from dlpo.experiments.runner import Mode, SweepOutcome, run_trials
from dlpo.experiments.spec import ExperimentSpec, load_experiment
from dlpo.experiments.tables import pair_rows, result_rows, write_tables
from dlpo.experiments.trials import Trial, expand, is_finished, saved_row, summarize, trial_dir


@dataclass
class SweepResult:
    out: Path
    results: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    trials: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    ran: list[str]
    files: dict[str, Path] = field(default_factory=dict)
    transfer: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # trials with no row (`tables_only`)


def finished_rows(trials: list[Trial], out_dir: Path, results: str | Path | None) -> SweepOutcome:
    """The rows of the trials finished so far (kept under `results`, or in the sweep folder),
    running nothing."""
    out = SweepOutcome()
    for trial in trials:
        row = saved_row(results, trial)
        if row is None and is_finished(trial_dir(out_dir, trial)):
            row = summarize(trial, trial_dir(out_dir, trial))
        if row is not None:
            out.rows.append(row)
    return out


def sweep_dir(spec: ExperimentSpec, out: str | Path | None) -> Path:
    """The sweep folder: `out`, else sweeps/<experiment name>."""
    return Path(out) if out is not None else Path("sweeps") / spec.name


def pending_trials(spec: ExperimentSpec, out: str | Path | None) -> tuple[list[Trial], list[dict[str, Any]]]:
    """The trials not finished yet, and the finished trials' rows (read once: `dlpo sweep` gives both
    to `estimate_wall` and `build_warning`)."""
    trials = expand(spec)
    rows = finished_rows(trials, sweep_dir(spec, out), spec.results).rows
    done = {r["id"] for r in rows}
    return [t for t in trials if t.id not in done], rows


def wall_estimate(spec: ExperimentSpec, out: str | Path | None = None) -> WallEstimate:
    """How long the trials not finished yet will take (`dlpo.experiments.estimate`), running nothing;
    `pending_ids` names them."""
    return estimate_wall(*pending_trials(spec, out))


def build_warning(
    spec: ExperimentSpec, pending: Sequence[Trial], rows: Sequence[dict[str, Any]]
) -> str | None:
    """A warning when the `pending` trials, answered by this machine's llama-server build, would not
    pair with finished trials (`rows`) answered by another build (`dlpo.experiments.build_check`)."""
    from dlpo.experiments.build_check import cached_builds, local_build, unpaired_note

    if not pending or not rows:
        return None
    return unpaired_note(pending, rows, local_build(), cached_builds, spec.compare, _seedless(spec))


def _seedless(spec: ExperimentSpec) -> list[str]:
    """Methods run once whatever the seed (human prompts): the tables pair them with every seed."""
    return [m.name for m in spec.methods if m.method == "human"]


def run_order(trials: list[Trial]) -> list[Trial]:
    """The order a sweep runs its trials in: human-prompt trials first (they only test, so they take
    minutes, and a sweep that has run them can estimate what is left), then the rest seed-major, as
    `expand` lists them. Results do not depend on the order; the tables follow the experiment's."""
    return sorted(trials, key=lambda t: t.config["recipe"]["name"] != "human")


def sweep(
    experiment: str | Path | ExperimentSpec,
    out: str | Path | None = None,
    *,
    ray: bool = False,
    address: str | None = None,
    workers: int | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
    tables_only: bool = False,
) -> SweepResult:
    """Run the trials that are not finished, then write the tables. `tables_only=True` runs
    nothing: the tables are made from the trials finished so far and name the missing ones."""
    spec = experiment if isinstance(experiment, ExperimentSpec) else load_experiment(experiment)
    out_dir = sweep_dir(spec, out)
    out_dir.mkdir(parents=True, exist_ok=True)
    trials = expand(spec)
    n_workers = workers or spec.runner.workers
    mode: Mode = "ray" if ray else ("pool" if n_workers > 1 else "serial")
    if tables_only:
        outcome = finished_rows(trials, out_dir, spec.results)
    else:
        outcome = run_trials(
            run_order(trials),
            out_dir,
            mode=mode,
            workers=n_workers,
            retries=spec.runner.retries,
            num_cpus=spec.runner.num_cpus,
            num_gpus=spec.runner.num_gpus,
            address=address,
            on_done=on_done,
            share_cache=spec.runner.share_cache,
            results=spec.results,
        )
    methods = [m.name for m in spec.methods]
    results = result_rows(outcome.rows, methods)
    seedless = _seedless(spec)
    pairs = pair_rows(
        outcome.rows,
        methods,
        spec.compare,
        samples=spec.bootstrap_samples,
        seed=spec.stats_seed,
        seedless=seedless,
    )
    # Trials with neither a row nor a failure: only `tables_only` leaves any.
    accounted = {r["id"] for r in outcome.rows} | {f["id"] for f in outcome.failures}
    missing = [t.id for t in trials if t.id not in accounted]
    files = write_tables(
        out_dir, results, pairs, outcome.rows, outcome.failures, title=spec.name, missing=missing
    )
    result = SweepResult(
        out_dir, results, pairs, outcome.rows, outcome.failures, outcome.ran, files, missing=missing
    )
    wants_transfer = spec.transfer is not None and (spec.transfer.tasks or spec.transfer.forwards)
    if wants_transfer and not tables_only:  # transfer evaluates prompts with a model
        from dlpo.experiments.transfer import run_transfer

        result.transfer, tfiles = run_transfer(spec, trials, outcome.rows, out_dir)
        result.files.update(tfiles)
    return result
