"""Cost of one training step: LLM calls by role, tokens, cache hits, wall time and backend busy time,
next to the calls the paper's reference protocol would make for the same work (paper.md §8.2).

    .venv/bin/python benchmarks/step_cost.py                      # tgd and dlpo, 2 steps each
    .venv/bin/python benchmarks/step_cost.py --presets dlpo --steps 3 --backward local:qwen2.5-0.5b

Busy time is the sum of the completion latencies of the model calls made during the step (the
local engine answers one request at a time, so this is the time the backend was working); the
ratio busy/wall says how much of the step's wall time the loop kept the backend busy (target
>= 85%). Cache hits cost no backend time.

Reference protocol per step (batch B, reference sizes = our train split and validation set):
B forward + (2B + 1) backward + 1 optimizer + |train| TSA forward (with TSA) + |val| + |train|
bookkeeping forward. The reference's forward calls are cached too when repeated; the figures are
before caching, like ours under "requests".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from dlpo.optim.presets import resolve_recipe
from dlpo.train import TrainConfig, afit

FORWARD_ROLES = ("forward", "acceptance", "validation")


def step_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-step deltas of the usage events (step 0 = validation of the starting prompt)."""
    usage = [e for e in events if e["type"] == "usage" and e["step"] >= 0]
    rows, prev_roles, prev_t = [], {}, None
    start_t = next(e["t"] for e in events if e["type"] == "start")
    for u in usage:
        if any(r["step"] == u["step"] for r in rows):
            break  # the final usage event (after the test evaluation)
        roles = {}
        for name, v in u["roles"].items():
            p = prev_roles.get(name, {})
            roles[name] = {
                k: v[k] - p.get(k, 0)
                for k in (
                    "requests",
                    "calls",
                    "cache_hits",
                    "prompt_tokens",
                    "completion_tokens",
                    "latency_s",
                )
            }
        wall = u["t"] - (prev_t if prev_t is not None else start_t)
        busy = sum(r["latency_s"] for r in roles.values())
        rows.append({"step": u["step"], "wall_s": wall, "busy_s": busy, "roles": roles})
        prev_roles, prev_t = u["roles"], u["t"]
    return rows


def reference_calls(batch: int, n_train: int, n_val: int, tsa: bool) -> dict[str, int]:
    return {
        "forward": batch + (n_train if tsa else 0) + n_val + n_train,
        "backward": 2 * batch + 1,
        "optimizer": 1,
    }


def ours(row: dict[str, Any], key: str) -> dict[str, int]:
    r = row["roles"]

    def get(role: str) -> int:
        return int(r.get(role, {}).get(key, 0))

    return {
        "forward": sum(get(x) for x in FORWARD_ROLES),
        "backward": get("backward"),
        "optimizer": get("optimizer"),
    }


def print_table(preset: str, rows: list[dict[str, Any]], ref: dict[str, int]) -> None:
    print(
        f"\n== {preset} ==  (calls = model calls made; req = requests incl. cache hits; "
        f"ref = reference protocol, before caching)"
    )
    head = (
        f"{'step':>4} {'fwd calls/req':>13} {'bwd calls':>9} {'opt calls':>9} {'hits':>5} {'tok in':>7} "
        f"{'tok out':>7} {'wall s':>7} {'busy s':>7} {'busy%':>6} | {'ref fwd':>7} {'ref bwd':>7} {'ref opt':>7}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        calls, req = ours(row, "calls"), ours(row, "requests")
        hits = sum(v["cache_hits"] for v in row["roles"].values())
        tin = sum(v["prompt_tokens"] for v in row["roles"].values())
        tout = sum(v["completion_tokens"] for v in row["roles"].values())
        pct = 100 * row["busy_s"] / row["wall_s"] if row["wall_s"] > 0 else 0.0
        refs = (
            f"{ref['forward']:>7} {ref['backward']:>7} {ref['optimizer']:>7}"
            if row["step"] > 0
            else f"{'-':>7} {'-':>7} {'-':>7}"
        )
        print(
            f"{row['step']:>4} {calls['forward']:>6}/{req['forward']:<6} {calls['backward']:>9} "
            f"{calls['optimizer']:>9} {hits:>5} {tin:>7} {tout:>7} {row['wall_s']:>7.1f} {row['busy_s']:>7.1f} "
            f"{pct:>5.1f}% | {refs}"
        )
    steps = [r for r in rows if r["step"] > 0]
    if steps:
        wall = sum(r["wall_s"] for r in steps)
        busy = sum(r["busy_s"] for r in steps)
        print(
            f"steps 1-{len(steps)}: wall {wall:.1f}s, busy {busy:.1f}s = {100 * busy / wall:.1f}% of wall; "
            f"per-role calls by step: "
            + "; ".join(
                f"{r['step']}: " + ", ".join(f"{k} {v['calls']}" for k, v in sorted(r["roles"].items()))
                for r in steps
            )
        )


async def run(preset: str, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    config = TrainConfig.build(
        task="demo",
        recipe=resolve_recipe(preset),
        steps=args.steps,
        batch_size=args.batch_size,
        val_limit=args.val,
        test_limit=args.test,
        acceptance_set=args.acceptance,
        forward_max_tokens=args.max_tokens,
        forward=args.forward,
        backward=args.backward,
        seed=args.seed,
    )
    events: list[dict[str, Any]] = []
    result = await afit(config, run_dir=root / preset, on_event=events.append)
    n_train = next(e for e in events if e["type"] == "start")["sizes"]["train"]
    ref = reference_calls(args.batch_size, n_train, args.val, "tsa" in config.recipe.techniques)
    rows = step_rows(events)
    print_table(preset, rows, ref)
    print(
        f"result: start val {result.start.val} test {result.start.test}; best (step {result.best.step}) "
        f"val {result.best.val} test {result.best.test}"
    )
    return {"preset": preset, "rows": rows, "reference_per_step": ref, "train_size": n_train}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="tgd,dlpo")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=3)
    ap.add_argument("--val", type=int, default=8)
    ap.add_argument("--test", type=int, default=4)
    ap.add_argument("--acceptance", type=int, default=6)
    ap.add_argument("--max-tokens", type=int, default=160)
    ap.add_argument("--forward", default="local:qwen2.5-0.5b")
    ap.add_argument("--backward", default="local:qwen2.5-1.5b")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the per-step figures here")
    args = ap.parse_args(argv)
    print(
        f"step cost on demo: forward {args.forward}, backward {args.backward}, batch {args.batch_size}, "
        f"val {args.val}, acceptance subset {args.acceptance}, {args.steps} steps",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="dlpo-step-cost-") as tmp:
        out = [asyncio.run(run(p.strip(), args, Path(tmp))) for p in args.presets.split(",") if p.strip()]
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
