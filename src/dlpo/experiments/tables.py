"""Results tables of a sweep (Markdown, CSV, JSON) and paired statistics between methods.

One row per (task, engine, method): mean +- sample std over seeds of the test accuracy of the
best-validation prompt and of the last prompt, the starting prompt's test accuracy, the per-seed
values, and per-trial means of model calls, tokens, USD and wall time. Pairs compare the
best-validation prompts of two methods on the same task and engine: a paired bootstrap over the
(seed, test example) pairs and an exact sign test over seeds (a seed-independent method such as
`human` is paired with every seed of the other). Two trials whose recorded llama-server builds
differ are not paired (a sweep resumed on another machine): the pair row counts them instead.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from dlpo.experiments.stats import mean_std, paired_bootstrap, sign_test
from dlpo.experiments.table_notes import build_set, builds_note, sweep_cut_off_note


def _f(x: float | None, digits: int = 3) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def result_rows(rows: Sequence[dict[str, Any]], methods: Sequence[str]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    order = {m: i for i, m in enumerate(methods)}
    for r in rows:
        groups.setdefault((r["task"], r["engine"], r["method"]), []).append(r)
    out = []
    for (task, engine, method), rs in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], order.get(kv[0][2], 99))
    ):
        rs = sorted(rs, key=lambda r: r["seed"])
        best = [r["best_test"] for r in rs if r["best_test"] is not None]
        last = [r["last_test"] for r in rs if r["last_test"] is not None]
        start = [r["start_test"] for r in rs if r["start_test"] is not None]
        bm, bs = mean_std(best)
        lm, ls = mean_std(last)
        n = len(rs)
        out.append(
            {
                "task": task,
                "engine": engine,
                "method": method,
                "seeds": [r["seed"] for r in rs],
                "n": n,
                "best_test_mean": bm,
                "best_test_std": bs,
                "last_test_mean": lm,
                "last_test_std": ls,
                "start_test_mean": mean_std(start)[0],
                "best_test_per_seed": best,
                "last_test_per_seed": last,
                "calls": sum(r["calls"] for r in rs) / n,
                "calls_alone": sum(r.get("calls_alone", r["calls"]) for r in rs) / n,
                "tokens": sum(r["tokens"] for r in rs) / n,
                "tokens_alone": sum(r.get("tokens_alone", r["tokens"]) for r in rs) / n,
                "usd": sum(r["usd"] for r in rs) / n,
                "wall_s": sum(r["wall_s"] for r in rs) / n,
                "stopped": sum(r["status"] != "ok" for r in rs),
                "never_acted": never_acted(rs),
            }
        )
    return out


def robustness_rows(rows: Sequence[dict[str, Any]], methods: Sequence[str]) -> list[dict[str, Any]]:
    """Per (task, engine, method) over seeds: the test gain of the chosen (best-validation) prompt
    over the starting prompt — mean, std, the worst seed's — the share of seeds whose chosen prompt
    tests worse than the start, and the largest drop of validation accuracy from one step to the
    next (how far one update set the run back)."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["task"], r["engine"], r["method"]), []).append(r)
    out = []
    for (task, engine, method), rs in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], _order(methods, kv[0][2]))
    ):
        gains = [
            r["best_test"] - r["start_test"]
            for r in rs
            if r.get("best_test") is not None and r.get("start_test") is not None
        ]
        if not gains:
            continue
        drops = []
        for r in rs:
            vals = [v for _, v in r.get("curve") or []]
            drops.append(max([a - b for a, b in itertools.pairwise(vals)] + [0.0]))
        m, sd = mean_std(gains)
        out.append(
            {
                "task": task,
                "engine": engine,
                "method": method,
                "n": len(gains),
                "gain_mean": m,
                "gain_std": sd,
                "worst_gain": min(gains),
                "worse_share": sum(g < 0 for g in gains) / len(gains),
                "max_val_drop": max(drops) if drops else 0.0,
            }
        )
    return out


def _order(methods: Sequence[str], method: str) -> int:
    return methods.index(method) if method in methods else len(methods)


def robustness_markdown(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "Robustness over seeds (test gain of the best-validation prompt over the starting prompt):",
        "",
        "| task | engine | method | seeds | gain mean ± std | worst seed | seeds worse than start | largest 1-step val drop |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['engine']} | {r['method']} | {r['n']} | {r['gain_mean']:+.3f} ± {_f(r['gain_std'])} "
            f"| {r['worst_gain']:+.3f} | {r['worse_share']:.0%} | {r['max_val_drop']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def never_acted(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Technique -> number of trials in which it never acted (only techniques that failed to act
    in at least one trial): an ablation row whose technique did nothing is not an ablation."""
    from dlpo.optim.base import acted

    out: dict[str, int] = {}
    for r in rows:
        for name, counts in (r.get("activity") or {}).items():
            if not acted(counts):
                out[name] = out.get(name, 0) + 1
    return out


def _flag(r: dict[str, Any]) -> str:
    idle = r.get("never_acted") or {}
    return ", ".join(f"{k} ({v}/{r['n']})" for k, v in sorted(idle.items())) or "-"


def _pairs(
    by_method: dict[str, list[dict[str, Any]]], a: str, b: str, seedless: set[str]
) -> list[tuple[dict, dict]]:
    ra, rb = by_method.get(a, []), by_method.get(b, [])
    # A seedless method (human prompts: one run) is paired with every seed of the other; a seeded
    # method with one finished seed so far is paired on that seed only.
    if a in seedless and len(ra) == 1 and len(rb) > 1:
        return [(ra[0], r) for r in rb]
    if b in seedless and len(rb) == 1 and len(ra) > 1:
        return [(r, rb[0]) for r in ra]
    seeds_b = {r["seed"]: r for r in rb}
    return [(r, seeds_b[r["seed"]]) for r in ra if r["seed"] in seeds_b]


def pair_rows(
    rows: Sequence[dict[str, Any]],
    methods: Sequence[str],
    compare: Sequence[tuple[str, str]] | None,
    samples: int = 2000,
    seed: int = 0,
    seedless: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Paired statistics of each compared pair on the seeds both have (`seedless` methods, run
    once, pair with every seed)."""
    pairs = list(compare) if compare else list(itertools.combinations(methods, 2))
    groups: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for r in rows:
        groups.setdefault((r["task"], r["engine"]), {}).setdefault(r["method"], []).append(r)
    out = []
    for (task, engine), by_method in sorted(groups.items()):
        for a, b in pairs:
            candidates = _pairs(by_method, a, b, set(seedless))
            if not candidates:
                continue
            matched = [(ra, rb) for ra, rb in candidates if not other_builds(ra, rb)]
            left_out = len(candidates) - len(matched)
            out.append(
                {
                    "task": task,
                    "engine": engine,
                    "a": a,
                    "b": b,
                    "seeds": len(matched),
                    **(_paired_stats(matched, samples, seed) if matched else _NO_STATS),
                    "other_build": left_out,
                }
            )
    return out


def other_builds(ra: dict[str, Any], rb: dict[str, Any]) -> bool:
    """True when both trials name their builds and the builds differ: the two runs are then not
    answers of one model to the same questions (builds disagree on a few greedy answers), so a
    paired difference between them would mix the methods' effect with the builds'."""
    a, b = build_set(ra), build_set(rb)
    return a is not None and b is not None and a != b


# A pair whose every seed was left out (other builds): no difference to show.
_NO_STATS: dict[str, Any] = {
    "delta": None,
    "ci_low": None,
    "ci_high": None,
    "bootstrap_p": None,
    "examples": 0,
    "wins": 0,
    "losses": 0,
    "ties": 0,
    "sign_p": None,
}


def _paired_stats(matched: Sequence[tuple[dict, dict]], samples: int, seed: int) -> dict[str, Any]:
    """Paired bootstrap over the (seed, test example) pairs and sign test over the seeds."""
    xs, ys = [], []
    for ra, rb in matched:
        sa, sb = ra["test_scores"]["best"], rb["test_scores"]["best"]
        for ex in sorted(set(sa) & set(sb)):
            xs.append(sa[ex])
            ys.append(sb[ex])
    boot = paired_bootstrap(xs, ys, samples=samples, seed=seed)
    sign = sign_test(
        [ra["best_test"] or 0.0 for ra, _ in matched], [rb["best_test"] or 0.0 for _, rb in matched]
    )
    return {
        "delta": boot.delta,
        "ci_low": boot.ci_low,
        "ci_high": boot.ci_high,
        "bootstrap_p": boot.p_value,
        "examples": boot.n,
        "wins": sign.wins,
        "losses": sign.losses,
        "ties": sign.ties,
        "sign_p": sign.p_value,
    }


def markdown(results: Sequence[dict[str, Any]], pairs: Sequence[dict[str, Any]], title: str = "") -> str:
    lines = [f"## {title}", ""] if title else []
    lines += [
        (
            "| task | engine | method | n | best-val prompt test (mean ± std) | last prompt test | start test "
            "| per-seed (best) | never acted | calls made | calls alone | tokens alone | $ | wall s |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['task']} | {r['engine']} | {r['method']} | {r['n']} | {_f(r['best_test_mean'])} ± {_f(r['best_test_std'])} "
            f"| {_f(r['last_test_mean'])} ± {_f(r['last_test_std'])} | {_f(r['start_test_mean'])} "
            f"| {', '.join(_f(v) for v in r['best_test_per_seed'])} | {_flag(r)} | {r['calls']:.0f} "
            f"| {r.get('calls_alone', r['calls']):.0f} | {r.get('tokens_alone', r['tokens']):.0f} "
            f"| {r['usd']:.4f} | {r['wall_s']:.0f} |"
        )
    if pairs:
        lines += [
            "",
            "Paired statistics (best-validation prompts; A − B):",
            "",
            (
                "| task | engine | A | B | seeds | Δ test | 95% CI (bootstrap) | p (bootstrap) | W/L/T seeds "
                "| p (sign) | seeds left out (other build) |"
            ),
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for p in pairs:
            lines.append(
                f"| {p['task']} | {p['engine']} | {p['a']} | {p['b']} | {p['seeds']} | {_f(p['delta'])} "
                f"| [{_f(p['ci_low'])}, {_f(p['ci_high'])}] | {_f(p['bootstrap_p'])} "
                f"| {p['wins']}/{p['losses']}/{p['ties']} | {_f(p['sign_p'])} | {p.get('other_build', 0)} |"
            )
    return "\n".join(lines) + "\n"


def to_csv(results: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    cols = [
        "task",
        "engine",
        "method",
        "n",
        "best_test_mean",
        "best_test_std",
        "last_test_mean",
        "last_test_std",
        "start_test_mean",
        "best_test_per_seed",
        "calls",
        "calls_alone",
        "tokens",
        "tokens_alone",
        "usd",
        "wall_s",
        "stopped",
    ]
    w = csv.writer(buf)
    w.writerow(cols)
    for r in results:
        w.writerow([" ".join(f"{v:.4f}" for v in r[c]) if isinstance(r[c], list) else r[c] for c in cols])
    return buf.getvalue()


def write_tables(
    out_dir: str | Path,
    results: Sequence[dict[str, Any]],
    pairs: Sequence[dict[str, Any]],
    trials: Sequence[dict[str, Any]],
    failures: Sequence[dict[str, Any]],
    title: str = "",
    missing: Sequence[str] = (),
) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"md": out / "results.md", "csv": out / "results.csv", "json": out / "results.json"}
    methods = list(dict.fromkeys(r["method"] for r in results))
    robust = robustness_rows(trials, methods)
    text = markdown(results, pairs, title) + ("\n" + robustness_markdown(robust) if robust else "")
    text += "\n" + builds_note(trials) if trials else ""
    text += "\n" + note if (note := sweep_cut_off_note(trials)) else ""
    if missing:
        text += f"\n**Not run yet: {len(missing)} of {len(trials) + len(missing)} trials** (the tables hold the others):\n"
        text += "".join(f"- {trial_id}\n" for trial_id in missing)
    for task in dict.fromkeys(t["task"] for t in trials if t.get("curve")):
        from dlpo.report.cost_curves import curves_figure

        name = "curves-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in task) + ".png"
        paths[f"curves:{task}"] = curves_figure(trials, task, out / name)
        text += f"\n![validation accuracy vs tokens, {task}]({name})\n"
    paths["md"].write_text(text, encoding="utf-8")
    paths["csv"].write_text(to_csv(results), encoding="utf-8")
    slim = [{k: v for k, v in t.items() if k != "test_scores"} for t in trials]
    paths["json"].write_text(
        json.dumps(
            {
                "results": results,
                "pairs": pairs,
                "robustness": robust,
                "trials": slim,
                "failures": list(failures),
                "missing": list(missing),
            },
            indent=2,
            sort_keys=True,
        ),
        encoding="utf-8",
    )
    return paths
