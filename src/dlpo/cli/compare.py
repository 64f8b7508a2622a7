"""`dlpo compare RUN... --out DIR`: one report (results table, overlaid curves) for several runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = """Compare several runs, or every run under a sweep folder, in one report.

Writes OUT/compare.html (results table: start / best / last validation and test accuracy, calls, tokens, cost; validation and train curves overlaid; best prompts; configurations) and OUT/summary.md (the same table, plus means over seeds).

Examples:

  dlpo compare runs/demo-tgd runs/demo-dlpo --out reports/tgd-vs-dlpo

  dlpo compare sweeps/ablation --out reports/ablation
"""


def compare(
    runs: Annotated[
        list[Path], typer.Argument(help="Run directories or folders holding runs.", show_default=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for compare.html and summary.md.")] = Path(
        "compare"
    ),
) -> None:
    from rich.console import Console

    from dlpo.report import build_compare

    html_path, md_path = build_compare(runs, out)
    Console(soft_wrap=True).print(f"report: {html_path}\nsummary: {md_path}")


def register(app: typer.Typer) -> None:
    app.command("compare", help=HELP)(compare)
