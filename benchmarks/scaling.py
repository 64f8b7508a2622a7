"""Scaling figure: wall time and peak memory of a run as the train set and the number of steps grow.

    .venv/bin/python benchmarks/scaling.py                       # scripted engines (dlpo's own cost)
    .venv/bin/python benchmarks/scaling.py --latency-ms 50       # scripted, 50 ms per request
    .venv/bin/python benchmarks/scaling.py --engine local:qwen2.5-0.5b --train 10,50 --steps 2

Table 1: train sizes (default 10, 50, 200) x acceptance set (a fixed subset of 5 vs the whole
train split), fixed steps. Table 2: a growing number of steps at a fixed train size: the peak
memory must stay flat (the loop keeps O(1) state per step: the event log and the cache live on
disk). Every configuration runs in a fresh process, so `ru_maxrss` is that run's peak RSS;
`py peak` is the tracemalloc peak of Python objects during the run (insensitive to the model's
own buffers). The default engines are the scripted ones of tests/train (replies are pure
functions of the request, concurrency unlimited), which measure dlpo itself; `--engine SPEC`
uses a real engine for both roles (slow: reduce the grids).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(spec: dict) -> dict:
    """Run one configuration in this process; returns its figures."""
    sys.path.insert(0, str(ROOT / "tests" / "train"))
    from scripted_setup import SlowEngine, engines, make_config, make_task

    from dlpo.train import afit

    task = make_task(n_train=spec["train"], n_val=spec["val"], n_test=spec["test"])
    config = make_config(spec["preset"], steps=spec["steps"], batch_size=spec["batch"],
                         acceptance_set=spec["acceptance"], val_limit=spec["val"], test_limit=spec["test"])  # fmt: skip
    if spec["engine"] == "scripted":
        fwd, bwd = engines()
        if spec["latency_ms"]:
            fwd, bwd = SlowEngine(fwd, spec["latency_ms"] / 1000), SlowEngine(bwd, spec["latency_ms"] / 1000)
    else:
        from dlpo.engines.spec import build_engine

        fwd = bwd = build_engine(spec["engine"], role="forward")
    tracemalloc.start()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(
            afit(config, run_dir=Path(tmp) / "run", task=task, forward_engine=fwd, backward_engine=bwd)
        )
        events = sum(1 for _ in open(Path(tmp) / "run" / "events.jsonl", encoding="utf-8"))  # noqa: SIM115
    wall = time.perf_counter() - start
    _, py_peak = tracemalloc.get_traced_memory()
    total = result.usage.get("total", {})
    return {
        "wall_s": wall,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "py_peak_mb": py_peak / 2**20,
        "requests": total.get("requests", 0),
        "events": events,
    }


def measure(spec: dict) -> dict:
    done = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], check=False,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        sys.exit(1)
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(label: str, figures: dict) -> str:
    return (f"{label:<28} {figures['wall_s']:>8.2f} {figures['rss_mb']:>8.1f} {figures['py_peak_mb']:>8.2f} "
            f"{figures['requests']:>8} {figures['events']:>7}")  # fmt: skip


HEADER = f"{'configuration':<28} {'wall s':>8} {'RSS MB':>8} {'py peak':>8} {'requests':>8} {'events':>7}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="scripted", help="'scripted' or an engine spec for both roles")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="scripted engines: delay per request")
    parser.add_argument("--preset", default="dlpo")
    parser.add_argument("--train", default="10,50,200", help="train sizes")
    parser.add_argument("--steps", type=int, default=4, help="steps for the train-size table")
    parser.add_argument("--steps-grid", default="5,20,80", help="steps for the memory-vs-steps table")
    parser.add_argument("--steps-train", type=int, default=50, help="train size for the steps table")
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--fixed-acceptance", type=int, default=5)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return
    base = {"engine": args.engine, "latency_ms": args.latency_ms, "preset": args.preset, "batch": args.batch,
            "val": 5, "test": 5}  # fmt: skip
    print(f"engine {args.engine}" + (f" ({args.latency_ms:g} ms/request)" if args.engine == "scripted" else "")
          + f", preset {args.preset}, batch {args.batch}, val 5, test 5")  # fmt: skip
    print(f"\ntrain size x acceptance set ({args.steps} steps)\n{HEADER}")
    for n in (int(x) for x in args.train.split(",")):
        for acceptance in (min(args.fixed_acceptance, n), "train"):
            spec = {**base, "train": n, "steps": args.steps, "acceptance": acceptance}
            print(row(f"train {n}, acceptance {acceptance}", measure(spec)), flush=True)
    print(f"\nsteps (train {args.steps_train}, acceptance {args.fixed_acceptance})\n{HEADER}")
    for steps in (int(x) for x in args.steps_grid.split(",")):
        spec = {**base, "train": args.steps_train, "steps": steps, "acceptance": args.fixed_acceptance}
        print(row(f"{steps} steps", measure(spec)), flush=True)


if __name__ == "__main__":
    main()
