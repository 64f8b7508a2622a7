"""`dlpo report RUN...`: write `report.html` + `summary.md` for each run (into the run or --out)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = """Write a self-contained HTML report and a Markdown summary of each run.

The report has the accuracy curves (train minibatch, validation, acceptance set with accepted and rejected candidates), the learning-rate and temperature schedules, prompt length, cost per role, the prompt's evolution as word-level diffs with the measured sentence edits, the start / best / last test table and the run's configuration.

Examples:

  dlpo report runs/demo-dlpo

  dlpo report runs/a runs/b --out reports/   (writes reports/a/report.html, reports/b/...)

  dlpo report runs/demo-dlpo --mlflow   (also log the run to MLflow: ./mlruns or $MLFLOW_TRACKING_URI)
"""


def report(
    runs: Annotated[list[Path], typer.Argument(help="Run directories.", show_default=False)],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for the report (default: inside each run). With several runs, "
            "each goes to OUT/<run name>/.",
        ),
    ] = None,
    mlflow: Annotated[
        bool, typer.Option("--mlflow", help="Also log each run (params, metrics, prompts, report) to MLflow.")
    ] = False,
    experiment: Annotated[str, typer.Option("--mlflow-experiment", help="MLflow experiment name.")] = "dlpo",
) -> None:
    from rich.console import Console

    from dlpo.report import load_run, write_report

    console = Console(soft_wrap=True)
    for run_dir in runs:
        load_run(run_dir)  # fail on a bad folder before writing anything
    for run_dir in runs:
        target = None if out is None else (out if len(runs) == 1 else out / Path(run_dir).resolve().name)
        html_path, md_path = write_report(run_dir, target)
        console.print(f"report: {html_path}\nsummary: {md_path}")
        if mlflow:
            from dlpo.tracking.mlflow import log_run

            console.print(f"mlflow run {log_run(run_dir, experiment=experiment)}")


def register(app: typer.Typer) -> None:
    app.command("report", help=HELP)(report)
