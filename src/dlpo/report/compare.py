"""One report for several runs (or a sweep's folder of runs): results table and overlaid curves."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError
from dlpo.report.load import RunData, load_run
from dlpo.report.secrets import scrub
from dlpo.runs.run_dir import is_run_dir


def expand_run_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Run folders from the given paths: a run folder as is, any other folder (a sweep) as the run
    folders below it (recursively, sorted). A path with no run is a `ConfigError`."""
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise ConfigError(f"{p}: no such run directory")
        if is_run_dir(p):
            out.append(p)
            continue
        found = sorted(c.parent for c in p.rglob("config.json") if is_run_dir(c.parent))
        if not found:
            raise ConfigError(f"{p} is not a dlpo run directory and holds none (no config.json)")
        out.extend(found)
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def result_row(run: RunData) -> dict[str, Any]:
    res = run.result or {}
    total = run.usage.get("total", {})

    def get(which: str, key: str) -> float | None:
        rec = res.get(which) or {}
        value = rec.get(key)
        if value is None and key == "test" and which in run.tests:
            value = run.tests[which]["score"]
        return value

    return {
        "name": run.name,
        "path": str(run.path),
        "task": run.config.get("task", "?"),
        "recipe": run.recipe.get("name", "?"),
        "techniques": ", ".join(run.recipe.get("techniques", [])),
        "seed": run.config.get("seed", "?"),
        "steps": len(run.steps),
        "status": "finished"
        if run.finished
        else (f"stopped ({run.stopped})" if run.stopped else "unfinished"),
        "start_val": run.start_val,
        "best_val": get("best", "val"),
        "start_test": get("start", "test"),
        "best_test": get("best", "test"),
        "last_test": get("last", "test"),
        "calls": total.get("calls", 0),
        "tokens": total.get("prompt_tokens", 0) + total.get("completion_tokens", 0),
        "usd": total.get("usd", 0.0),
    }


def build_compare(paths: Sequence[str | Path], out: str | Path) -> tuple[Path, Path]:
    """Write `compare.html` and `summary.md` for the runs found under `paths` into folder `out`."""
    from dlpo.report import figures
    from dlpo.report.html import dlpo_version, template_env, write_text
    from dlpo.report.markdown import compare_summary_md

    runs = [load_run(p) for p in expand_run_paths(paths)]
    rows = [result_row(r) for r in runs]
    out = Path(out)
    html = (
        template_env()
        .get_template("compare.html.j2")
        .render(
            rows=rows,
            runs=runs,
            figs={
                "val": figures.overlay_figure(runs, "val", "validation accuracy"),
                "batch": figures.overlay_figure(runs, "batch_score", "train minibatch accuracy"),
            },
            configs_json=json.dumps({r.name: r.config for r in runs}, indent=2, sort_keys=True),
            version=dlpo_version(),
        )
    )
    return (
        write_text(out / "compare.html", scrub(html)),
        write_text(out / "summary.md", compare_summary_md(runs, rows)),
    )
