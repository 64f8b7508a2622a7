"""Optimizer quality probe: what the optimizer actually does, step by step, on the real models.

    .venv/bin/python benchmarks/optimizer_quality.py                        # tgd and dlpo, 3 steps each
    .venv/bin/python benchmarks/optimizer_quality.py --presets dlpo --steps 4 --json /tmp/q.json

Runs K training steps of each preset on `demo` (forward 0.5B, backward/optimizer 1.5B by default)
with a small batch and acceptance subset, WITHOUT the response cache (every call is real), and
prints per step: the batch's scorer reasons, the gradient, each reply's parse status and rejection
reason, whether the step gave a usable candidate, the decision (accepted? scores), the measured
sentence edits, the prompt before -> after and the val accuracy. The summary line per preset says:
usable candidates / steps, accepted / steps, start -> final (and best) val, calls, tokens, wall time.

A "usable" candidate is one the optimizer could score or accept: the reply parsed and passed the
rejection rules (possibly after the one re-ask). The test split is cut to `--test-limit` (the probe
measures the steps, not the final test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from dlpo.optim.presets import resolve_recipe
from dlpo.train import TrainConfig, afit


def _short(text: str | None, width: int = 400) -> str:
    if text is None:
        return "(none)"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _indent(text: str, prefix: str = "      ") -> str:
    return textwrap.indent(text.strip(), prefix)


class StepPrinter:
    """Collects a step's events and prints them when the step's `step` event arrives."""

    def __init__(self, preset: str, verbose: bool) -> None:
        self.preset = preset
        self.verbose = verbose
        self.current: dict[str, dict[str, Any]] = {}
        self.steps: list[dict[str, Any]] = []
        self.vals: dict[int, float] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "validation":
            self.vals[event["step"]] = event["score"]
            if event["step"] == 0:
                print(f"[{self.preset}] start val {event['score']:.3f}", flush=True)
        if kind in ("forward_batch", "gradient", "candidate", "edits", "decision", "update_request"):
            self.current[kind] = event
        if kind == "step":
            self._print_step(event)
            self.current = {}

    def _print_step(self, step_event: dict[str, Any]) -> None:
        c = self.current
        fwd, grad, cand = c.get("forward_batch", {}), c.get("gradient", {}), c.get("candidate", {})
        edits, dec = c.get("edits", {}).get("metrics", {}), c.get("decision", {})
        step = step_event["step"]
        parse = cand.get("parse") or []
        row = {
            "step": step,
            "batch_score": fwd.get("score"),
            "reasons": fwd.get("reasons"),
            "parse": parse,
            "usable": not cand.get("failed", True),
            "accepted": bool(dec.get("accepted")),
            "decision_reason": dec.get("reason"),
            "score_before": dec.get("score_before"),
            "score_candidate": dec.get("score_candidate"),
            "edits": edits.get("edits"),
            "candidate": cand.get("candidate"),
            "prompt_after": step_event.get("prompt"),
            "val": step_event.get("val"),
            "gradient": grad.get("text"),
        }
        self.steps.append(row)
        print(f"\n[{self.preset}] step {step}: batch {row['batch_score']:.2f}  reasons {row['reasons']}")
        if self.verbose:
            for k, crit in enumerate(grad.get("critiques", []), start=1):
                print(f"    critique {k}:\n{_indent(crit)}")
        print(f"    gradient:\n{_indent(grad.get('text') or '')}")
        for k, p in enumerate(parse, start=1):
            print(
                f"    reply {k}: method={p.get('method')} finish={p.get('finish_reason')} -> {p.get('reason')}"
            )
        if self.verbose or not row["usable"]:
            for k, raw in enumerate(cand.get("raw_replies", []), start=1):
                print(f"    raw reply {k}: {_short(raw, 600)}")
        e = row["edits"] or {}
        print(
            f"    usable={row['usable']} accepted={row['accepted']} ({row['decision_reason']}); "
            f"acc-set {row['score_before']} -> {row['score_candidate']}; edits "
            f"+{e.get('added', 0)} -{e.get('deleted', 0)} ~{e.get('modified', 0)}"
        )
        print(f"    candidate: {_short(row['candidate'])}")
        print(f"    prompt now: {_short(row['prompt_after'])}")
        print(f"    val {row['val']}", flush=True)


def summarize(preset: str, printer: StepPrinter, result: Any, wall: float) -> dict[str, Any]:
    steps = printer.steps
    usage = result.usage.get("total", {})
    vals = [v for _, v in sorted(printer.vals.items())]
    summary = {
        "preset": preset,
        "steps": len(steps),
        "usable": sum(s["usable"] for s in steps),
        "accepted": sum(s["accepted"] for s in steps),
        "changed": sum(s["accepted"] and s["candidate"] is not None for s in steps),
        "start_val": vals[0] if vals else None,
        "final_val": vals[-1] if vals else None,
        "best_val": result.best.val,
        "calls": usage.get("calls"),
        "tokens": (usage.get("prompt_tokens") or 0) + (usage.get("completion_tokens") or 0),
        "wall_s": round(wall, 1),
        "final_prompt": result.last.prompt,
        "fail_reasons": [p["reason"] for s in steps for p in s["parse"] if p.get("reason") != "ok"],
        "per_step": steps,
    }
    return summary


async def run_preset(preset: str, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    config = TrainConfig.build(
        task="demo",
        recipe=resolve_recipe(preset),
        steps=args.steps,
        batch_size=args.batch_size,
        seed=args.seed,
        val_limit=args.val_limit,
        test_limit=args.test_limit,
        acceptance_set=args.acceptance_set,
        forward_max_tokens=args.forward_max_tokens,
        critique_max_tokens=args.critique_max_tokens,
        reduction_max_tokens=args.reduction_max_tokens,
        forward=args.forward,
        backward=args.backward,
    )
    printer = StepPrinter(preset, args.verbose)
    t0 = time.perf_counter()
    result = await afit(config, run_dir=root / preset, on_event=printer, cache=False)
    return summarize(preset, printer, result, time.perf_counter() - t0)


def print_summary(rows: list[dict[str, Any]]) -> None:
    print("\n== summary ==")
    head = f"{'preset':<8} {'usable':>7} {'accepted':>9} {'start val':>9} {'final val':>9} {'best val':>8} {'calls':>6} {'tokens':>7} {'wall s':>7}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['preset']:<8} {r['usable']:>3}/{r['steps']:<3} {r['accepted']:>5}/{r['steps']:<3} "
            f"{r['start_val']:>9.3f} {r['final_val']:>9.3f} {r['best_val']:>8.3f} {r['calls']:>6} "
            f"{r['tokens']:>7} {r['wall_s']:>7.1f}"
        )
    for r in rows:
        print(f"{r['preset']} final prompt: {_short(r['final_prompt'], 600)}")
        if r["fail_reasons"]:
            print(f"{r['preset']} rejections: {r['fail_reasons']}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="tgd,dlpo")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-limit", type=int, default=6)
    ap.add_argument("--test-limit", type=int, default=1)
    ap.add_argument("--acceptance-set", type=int, default=5)
    ap.add_argument("--forward-max-tokens", type=int, default=160)
    ap.add_argument("--critique-max-tokens", type=int, default=150)
    ap.add_argument("--reduction-max-tokens", type=int, default=200)
    ap.add_argument("--forward", default="local:qwen2.5-0.5b")
    ap.add_argument("--backward", default="local:qwen2.5-1.5b")
    ap.add_argument("--out", type=Path, default=None, help="Run folders (default: a temp dir).")
    ap.add_argument("--json", type=Path, default=None, help="Write the summaries here.")
    ap.add_argument("--verbose", action="store_true", help="Also print critiques and raw replies.")
    args = ap.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="dlpo-quality-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"run folders under {root}")
    rows = []
    for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
        rows.append(await run_preset(preset, args, root))
    print_summary(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
