"""Reports of runs: a self-contained HTML file and a Markdown summary per run, and one comparison
report for several runs or a sweep.

    from dlpo.report import write_report, build_compare
    html_path, md_path = write_report("runs/demo-dlpo-...")
"""

from __future__ import annotations

from pathlib import Path

from dlpo.report.compare import build_compare, expand_run_paths
from dlpo.report.load import RunData, StepRow, load_run

__all__ = ["RunData", "StepRow", "build_compare", "expand_run_paths", "load_run", "write_report"]


def write_report(run_dir: str | Path, out: str | Path | None = None) -> tuple[Path, Path]:
    """Write `report.html` and `summary.md` for the run in `run_dir` into `out` (default: the run
    folder itself); returns both paths."""
    from dlpo.report.html import render_run_html, write_text
    from dlpo.report.markdown import run_summary_md

    run = load_run(run_dir)
    folder = Path(out) if out is not None else run.path
    return (
        write_text(folder / "report.html", render_run_html(run)),
        write_text(folder / "summary.md", run_summary_md(run)),
    )
