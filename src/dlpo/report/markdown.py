"""The Markdown summary written next to a report (`summary.md`): readable in a terminal or a PR."""

from __future__ import annotations

from collections.abc import Sequence

from dlpo.report.builds import builds_line
from dlpo.report.html import fmt_num, fmt_pct, fmt_signed, run_context
from dlpo.report.load import RunData
from dlpo.report.secrets import scrub


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fence(text: str) -> str:
    return "````text\n" + text + "\n````"


def run_summary_md(run: RunData) -> str:
    ctx = run_context(run)
    recipe, config, total = ctx["recipe"], ctx["config"], ctx["total"]
    lines = [
        f"# dlpo run `{run.name}`",
        "",
        (
            f"- task: **{config.get('task')}**; recipe **{recipe.get('name')}** "
            f"({', '.join(recipe.get('techniques', [])) or 'no techniques'}, "
            f"acceptance {recipe.get('acceptance')})"
        ),
        f"- forward `{config.get('forward')}`, backward `{config.get('backward')}`, seed {config.get('seed')}",
        f"- status: {ctx['status']}; {len(run.steps)} steps"
        + (f"; {run.elapsed_s:.0f} s" if run.elapsed_s is not None else ""),
        (
            f"- model calls {total.get('calls', 0)}, cache hits {total.get('cache_hits', 0)}, tokens "
            f"{total.get('prompt_tokens', 0) + total.get('completion_tokens', 0)}, cost ${total.get('usd', 0):.4f}"
        ),
        *([f"- {builds}"] if (builds := builds_line(run.usage.get("builds"), quote="`")) else []),
        *([f"- {ctx['plan']}"] if ctx["plan"] else []),
        *([f"- **{ctx['limit_note']}**"] if ctx["limit_note"] else []),
        "",
        "| prompt | step | validation | test | words |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in ctx["final"]:
        lines.append(
            f"| {r['which']} | {r['step']} | {fmt_pct(r['val'])} | {fmt_pct(r['test'])} | {r['words']} |"
        )
    if ctx["activity"]:
        lines += [
            "",
            "## What each technique did",
            "",
            "| technique | acted | counts over the run |",
            "|---|---|---|",
        ]
        lines += [
            f"| {a['technique']} | {'yes' if a['acted'] else 'never'} | {a['counts']} |"
            for a in ctx["activity"]
        ]
    lines += [
        "",
        f"## Best prompt (step {ctx['best_step']})",
        "",
        _fence(ctx["best_prompt"]),
        "",
        "## Steps",
        "",
    ]
    lines += [
        "| step | minibatch | decision | Δ | T | lr | validation | sentence edits | words |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in run.steps:
        edits = str(s.edits.get("total", "-")) + (
            f" / {s.edits_budget}" if s.edits_budget is not None else ""
        )
        lines.append(
            f"| {s.step} | {fmt_pct(s.batch_score)} | {s.status} | {fmt_signed(s.delta)} | "
            f"{fmt_num(s.temperature)} | {fmt_num(s.lr)} | {fmt_pct(s.val)} | {edits} | {s.prompt_words or '-'} |"
        )
    lines += ["", "The HTML report (`report.html`) has the curves and word-level prompt diffs.", ""]
    return scrub("\n".join(lines))


def compare_summary_md(runs: Sequence[RunData], rows: Sequence[dict]) -> str:
    lines = [
        f"# dlpo comparison of {len(runs)} runs",
        "",
        (
            "| run | task | recipe | seed | steps | start val | best val | start test | best test | last test "
            "| calls | tokens |"
        ),
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {_cell(r['name'])} | {r['task']} | {r['recipe']} | {r['seed']} | {r['steps']} | "
            f"{fmt_pct(r['start_val'])} | {fmt_pct(r['best_val'])} | {fmt_pct(r['start_test'])} | "
            f"{fmt_pct(r['best_test'])} | {fmt_pct(r['last_test'])} | {r['calls']} | {r['tokens']} |"
        )
    groups = [g for g in _group_means(rows) if g["n"] > 1]
    if groups:
        lines += [
            "",
            "## Mean over seeds",
            "",
            "| task | recipe | runs | best test (mean) |",
            "|---|---|---:|---:|",
        ]
        for g in groups:
            lines.append(f"| {g['task']} | {g['recipe']} | {g['n']} | {fmt_pct(g['best_test'])} |")
    lines.append("")
    return scrub("\n".join(lines))


def _group_means(rows: Sequence[dict]) -> list[dict]:
    groups: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        if r["best_test"] is not None:
            groups.setdefault((r["task"], r["recipe"]), []).append(r["best_test"])
    return [
        {"task": t, "recipe": rec, "n": len(v), "best_test": sum(v) / len(v)}
        for (t, rec), v in sorted(groups.items())
    ]
