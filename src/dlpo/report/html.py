"""The self-contained HTML report of one run (jinja2 template, figures embedded as base64 PNG)."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError
from dlpo.report.load import RunData
from dlpo.report.secrets import scrub


def template_env() -> Any:
    """A jinja2 environment over the package's templates, autoescaping everything."""
    try:
        import jinja2
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError("reports need the 'report' extra: pip install 'dlpo[report]'") from None
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dlpo.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2", "css"], default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(pct=fmt_pct, signed=fmt_signed, num=fmt_num)
    return env


def fmt_pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def fmt_signed(x: float | None) -> str:
    return "-" if x is None else f"{x:+.3f}"


def fmt_num(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def dlpo_version() -> str:
    try:
        return version("dlpo")
    except PackageNotFoundError:  # pragma: no cover
        return "dev"


def final_rows(run: RunData) -> list[dict[str, Any]]:
    """start / best / last: step, validation, test score and length (test None when not tested)."""
    rows = []
    for which in ("start", "best", "last"):
        rec = (run.result or {}).get(which)
        if rec is None:
            found = run.prompt_at(which)
            if found is None:
                continue
            prompt, step = found
            rec = {"prompt": prompt, "step": step, "val": None, "test": None}
        test = rec.get("test")
        if test is None and which in run.tests:
            test = run.tests[which]["score"]
        rows.append(
            {
                "which": which,
                "step": rec["step"],
                "val": rec.get("val"),
                "test": test,
                "words": len(rec["prompt"].split()),
                "prompt": rec["prompt"],
            }
        )
    return rows


def run_context(run: RunData) -> dict[str, Any]:
    """Everything the run template shows (also used by the Markdown summary)."""
    from dlpo.report.builds import builds_line
    from dlpo.report.cut_off import cut_off_note
    from dlpo.report.diffs import prompt_evolution

    final = final_rows(run)
    best = next((r for r in final if r["which"] == "best"), final[0] if final else None)
    if run.finished:
        status, status_class = "finished", "ok"
    elif run.stopped:
        status, status_class = f"stopped ({run.stopped})", "stopped"
    else:
        status, status_class = "unfinished", "stopped"
    return {
        "run": run,
        "config": run.config,
        "recipe": run.recipe,
        "final": final,
        "best_prompt": best["prompt"] if best else run.start_prompt,
        "best_step": best["step"] if best else 0,
        "total": run.usage.get("total", {}),
        "builds": builds_line(run.usage.get("builds")),
        "changes": prompt_evolution(run),
        "config_json": json.dumps(run.config, indent=2, sort_keys=True),
        "status": status,
        "status_class": status_class,
        "version": dlpo_version(),
        "activity": activity_rows(run),
        "plan": plan_line(run),
        "limit_note": cut_off_note(run.tests, run.config.get("forward_max_tokens")),
    }


def plan_line(run: RunData) -> str | None:
    """How the budget cut the planned steps (the schedules of TSA and TRegu follow the plan)."""
    if not run.plans:
        return None
    first, last = run.plans[0], run.plans[-1]
    return (
        f"planned steps {first['previous']} -> {last['planned_steps']}: the {last['unit']} budget buys "
        f"about {last['per_step']:g} {last['unit']} per step (re-planned {len(run.plans)} times; "
        "run-scaled schedules follow the plan)"
    )


def activity_rows(run: RunData) -> list[dict[str, Any]]:
    """One row per technique: what it did over the run, and whether it acted at all."""
    from dlpo.optim.base import acted

    saved = (run.result or {}).get("activity") or {}
    return [
        {
            "technique": name,
            "acted": acted(counts),
            "counts": ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()),
        }
        for name, counts in saved.items()
    ]


def render_run_html(run: RunData) -> str:
    from dlpo.report import figures

    ctx = run_context(run)
    ctx["figs"] = {
        "accuracy": figures.accuracy_figure(run),
        "schedule": figures.schedule_figure(run),
        "length": figures.length_figure(run),
        "cost": figures.cost_figure(run),
    }
    return scrub(template_env().get_template("run.html.j2").render(**ctx))


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
