"""Optimizer quality probe: what the update step does on the real models, over seeds and tasks.

    .venv/bin/python benchmarks/optimizer_quality.py --out /tmp/q-after              # run + report
    .venv/bin/python benchmarks/optimizer_quality.py --analyze /tmp/q-after          # report only

Runs `presets` x `tasks` x `seeds` training runs (forward 0.5B, backward/optimizer 1.5B by default)
into `--out`, WITHOUT a response cache shared between runs, then reads every run folder's events and
prints per (task, preset):

* steps: optimizer steps that reached the update (steps skipped because the minibatch was all
  correct are counted apart);
* usable: steps whose update gave a candidate that passed the checks (possibly after the re-ask or
  the fallback); unchanged / parse failures: steps that FAILED because the reply repeated the current
  prompt, or because no reply could be read;
* accepted steps; each technique's activity (result.json; runs of older code have none): the
  share of trials in which it acted;
* test: the starting prompt and the best-validation prompt on the test split, and the paired gain
  pooled over seeds (questions x seeds) with a seeded bootstrap 95% interval.

Tasks: `demo`, and two user-style file tasks written by this script (`--tasks` names them):
`units` (word problems whose targets are bare integers, scored by exact match, so an answer with
its unit ("24 dollars") is wrong) and `labels` (the tickets task's messages and queue labels as a
CSV with the generic file-task starting prompt, exact match). Only `TrainConfig.build` and `fit` are
used, so the same script measures older checkouts: run it with that checkout's python.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

FILE_TASKS = ("units", "labels")


def write_units(path: Path, n: int = 200) -> None:
    from dlpo.tasks.demo import generate

    with path.open("w") as f:
        for e in generate(n, seed=7):
            f.write(json.dumps({"question": e.input, "answer": e.target}) + "\n")


def write_labels(path: Path, n: int = 200) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from dlpo.tasks.tickets import generate  # new in this checkout: imported from its source tree

    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["message", "queue"])
        for e in generate(n, seed=11):
            w.writerow([e.input, e.target])


def task_values(name: str, root: Path) -> dict[str, Any]:
    if name == "units":
        path = root / "units.jsonl"
        if not path.exists():
            write_units(path)
        opts = {
            "input_col": "question",
            "target_col": "answer",
            "scorer": "exact",
            "split_sizes": [40, 30, 60],
        }
        return {"task": f"file:{path}", "task_options": opts}
    if name == "labels":
        path = root / "labels.csv"
        if not path.exists():
            write_labels(path)
        opts = {"input_col": "message", "target_col": "queue", "scorer": "exact", "split_sizes": [40, 30, 60]}
        return {"task": f"file:{path}", "task_options": opts}
    return {"task": name}


def run_one(task: str, preset: str, seed: int, args: argparse.Namespace, root: Path) -> Path:
    from dlpo.optim.presets import resolve_recipe
    from dlpo.train import TrainConfig, fit

    out = root / "runs" / f"{task}__{preset}__s{seed}"
    if (out / "result.json").exists():
        return out
    values: dict[str, Any] = {
        **task_values(task, root),
        "recipe": resolve_recipe(preset),
        "steps": args.steps,
        "batch_size": args.batch_size,
        "seed": seed,
        "val_limit": args.val_limit,
        "test_limit": args.test_limit if task == "demo" else None,
        "acceptance_set": args.acceptance_set,
        "forward_max_tokens": args.forward_max_tokens,
        "forward": args.forward,
        "backward": args.backward,
    }
    config = TrainConfig.build(**{k: v for k, v in values.items() if v is not None})
    start = time.perf_counter()
    if (out / "config.json").exists():  # a run this script started and was stopped: continue it
        result = fit(None, resume=out)
    else:
        result = fit(config, run_dir=out)
    print(
        f"{task} {preset} seed {seed}: {time.perf_counter() - start:.0f} s; "
        f"test {result.start.test} -> {result.best.test}",
        flush=True,
    )
    return out


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (path / "events.jsonl").read_text().splitlines() if line.strip()]


def step_outcomes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per step that reached the update: usable? failed because unchanged / unparsable? accepted?"""
    out, current = [], {}
    for e in events:
        if e["type"] in ("candidate", "decision"):
            current[e["type"]] = e
        if e["type"] == "step":
            dec, cand = current.get("decision", {}), current.get("candidate")
            if dec.get("skipped"):
                out.append({"skipped": True})
            elif cand is not None:
                parse = [
                    p
                    for p in (cand.get("parse") or [])
                    if not str(p.get("method", "")).startswith("fallback")
                ]
                reasons = [str(p.get("reason", "")) for p in parse]
                failed = bool(cand.get("failed"))
                unchanged = failed and any(r.startswith(("unchanged", "already")) for r in reasons)
                out.append(
                    {
                        "skipped": False,
                        "usable": not failed,
                        "unchanged": unchanged,
                        "parse": failed and not unchanged and any(r.startswith(UNPARSED) for r in reasons),
                        "accepted": bool(dec.get("accepted")),
                    }
                )
            current = {}
    return out


# reasons (parsing.py, structured.py) that mean no prompt could be read from the reply
UNPARSED = ("missing tags", "not json", "repetition loop", "truncated", "empty")


def test_scores(events: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {e["which"]: dict(zip(e["ids"], e["scores"])) for e in events if e["type"] == "test"}


def bootstrap_gain(
    pairs: list[tuple[float, float]], samples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    diffs = [b - a for a, b in pairs]
    n = len(diffs)
    if not n:
        return math.nan, math.nan, math.nan
    rng = random.Random(seed)
    stats = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    return sum(diffs) / n, stats[int(0.025 * (samples - 1))], stats[math.ceil(0.975 * (samples - 1))]


PASSIVE = {"not_worse", "stored", "edits_measured"}


def analyze(root: Path) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[Path]] = {}
    for run in sorted((root / "runs").iterdir()):
        if (run / "result.json").exists():
            task, preset, _ = run.name.split("__")
            groups.setdefault((task, preset), []).append(run)
    rows = []
    for (task, preset), runs in groups.items():
        steps, pairs, acted, starts, bests = [], [], {}, [], []
        for run in runs:
            events = read_events(run)
            steps += step_outcomes(events)
            tests = test_scores(events)
            start, best = tests.get("start", {}), tests.get("best", {})
            pairs += [(start[i], best[i]) for i in start if i in best]
            starts.append(sum(start.values()) / max(1, len(start)))
            bests.append(sum(best.values()) / max(1, len(best)))
            activity = json.loads((run / "result.json").read_text()).get("activity", {})
            for name, counts in activity.items():
                did = any(v > 0 for k, v in counts.items() if k not in PASSIVE)
                acted.setdefault(name, []).append(did)
        real = [s for s in steps if not s["skipped"]]
        n = len(real)
        gain, lo, hi = bootstrap_gain(pairs)
        rows.append(
            {
                "task": task,
                "preset": preset,
                "trials": len(runs),
                "steps": n,
                "skipped": len(steps) - n,
                "usable": sum(s["usable"] for s in real) / n if n else math.nan,
                "unchanged": sum(s["unchanged"] for s in real) / n if n else math.nan,
                "parse_fail": sum(s["parse"] for s in real) / n if n else math.nan,
                "accepted": sum(s["accepted"] for s in real),
                "acted": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(acted.items())},
                "start_test": sum(starts) / len(starts),
                "best_test": sum(bests) / len(bests),
                "gain": gain,
                "ci": (lo, hi),
                "n_pairs": len(pairs),
            }
        )
    return rows


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(
        "| task | preset | trials | steps (+skipped) | usable | unchanged | parse failures | accepted "
        "| techniques acted (trials) | test start → best | gain [95% CI], n |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        acted = ", ".join(f"{k} {v}" for k, v in r["acted"].items()) or "-"
        print(
            f"| {r['task']} | {r['preset']} | {r['trials']} | {r['steps']} (+{r['skipped']}) | {r['usable']:.0%} "
            f"| {r['unchanged']:.0%} | {r['parse_fail']:.0%} | {r['accepted']} | {acted} "
            f"| {r['start_test']:.3f} → {r['best_test']:.3f} | {r['gain']:+.3f} [{r['ci'][0]:+.3f}, "
            f"{r['ci'][1]:+.3f}], {r['n_pairs']} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="Folder for the task files and run folders.")
    ap.add_argument("--analyze", type=Path, help="Only read the run folders under this folder.")
    ap.add_argument("--tasks", default="demo")
    ap.add_argument("--presets", default="dlpo,tgd")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=3)
    ap.add_argument("--val-limit", type=int, default=10)
    ap.add_argument("--test-limit", type=int, default=10, help="demo only; file tasks use their 60")
    ap.add_argument("--acceptance-set", type=int, default=6)
    ap.add_argument("--forward-max-tokens", type=int, default=160)
    ap.add_argument("--forward", default="local:qwen2.5-0.5b")
    ap.add_argument("--backward", default="local:qwen2.5-1.5b")
    args = ap.parse_args()
    root = args.analyze or args.out
    if root is None:
        ap.error("give --out (run and report) or --analyze (report only)")
    if args.analyze is None:
        root.mkdir(parents=True, exist_ok=True)
        for seed in [int(s) for s in args.seeds.split(",")]:
            for task in args.tasks.split(","):
                for preset in args.presets.split(","):
                    run_one(task, preset, seed, args, root)
    print_rows(analyze(root))


if __name__ == "__main__":
    main()
