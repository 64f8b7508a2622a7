"""The main job (`dlpo optimize` with no arguments) on the embedded models: one slot against N slots.

Runs the main job's exact configuration (the `demo` task with its quick-run sizes, the `dlpo`
preset, forward 0.5B, backward 1.5B, managed llama-servers) once with `--slots 1` and once with
`--slots N`, each into a fresh run folder (no cache), and prints, per phase (the roles forward,
acceptance, validation, test, backward, optimizer) and in all:

* wall: the time at least one request of the phase was in flight (phases never overlap);
* calls and tokens;
* sequences: the mean number of sequences the server was working on during the phase (the
  server's own prompt + decode time per request, from llama-server's `timings`, summed, over the
  phase's wall time; at most the slot count);
* busy: for the whole run, the share of its wall time with a request in flight.

In the same invocation it measures the server's own throughput ratio (N slots / one slot, from
benchmarks/server_throughput.py) for each model, so that each phase's speed-up (wall at one slot /
wall at N slots) can be read against what the server itself can give: the batch phases
(validation, test, acceptance) should reach >= 90 % of the forward model's ratio.

    .venv/bin/python benchmarks/main_job.py [--slots 4] [--skip-server-ratio]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpo.engines.client import LLMClient

sys.path.insert(0, str(Path(__file__).parent))
PHASES = ("forward", "acceptance", "validation", "test", "backward", "optimizer")


@dataclass
class CallLog:
    """(role, start, end, tokens, server seconds) of every model call, recorded around
    `LLMClient._call`."""

    calls: list[tuple[str, float, float, int, float]] = field(default_factory=list)

    def install(self) -> Any:
        original = LLMClient._call
        log = self

        async def timed(client: LLMClient, request: Any, role: str) -> Any:
            start = time.perf_counter()
            completion = await original(client, request, role)
            timings = completion.extra.get("timings") or {}
            server_s = (timings.get("prompt_ms", 0.0) + timings.get("predicted_ms", 0.0)) / 1000
            log.calls.append((role, start, time.perf_counter(), completion.total_tokens, server_s))
            return completion

        LLMClient._call = timed  # type: ignore[method-assign]
        return original


def union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for s, e in sorted(intervals):
        if s > end:
            total += e - s
            end = e
        elif e > end:
            total += e - end
            end = e
    return total


def phase_table(log: CallLog, wall: float) -> dict[str, dict[str, float]]:
    by_role: dict[str, list[tuple[str, float, float, int, float]]] = defaultdict(list)
    for call in log.calls:
        by_role[call[0]].append(call)
    rows: dict[str, dict[str, float]] = {}
    for role in [*PHASES, *sorted(set(by_role) - set(PHASES))]:
        calls = by_role.get(role, [])
        busy = union([(c[1], c[2]) for c in calls])
        rows[role] = {
            "wall": busy,
            "calls": len(calls),
            "tokens": sum(c[3] for c in calls),
            "in_flight": sum(c[4] for c in calls) / busy if busy else 0.0,
        }
    busy_all = union([(c[1], c[2]) for c in log.calls])
    rows["all"] = {
        "wall": wall,
        "calls": len(log.calls),
        "tokens": sum(c[3] for c in log.calls),
        "in_flight": sum(c[4] for c in log.calls) / busy_all if busy_all else 0.0,
        "busy": busy_all / wall if wall else 0.0,
    }
    return rows


def run_main_job(slots: int, out: Path) -> tuple[dict[str, dict[str, float]], Any]:
    from dlpo.cli.optimize import config_values
    from dlpo.train import TrainConfig, fit

    values = config_values({})
    values["engine"] = {"slots": slots}
    config = TrainConfig.build(**values)
    log = CallLog()
    original = log.install()
    try:
        start = time.perf_counter()
        result = fit(config, run_dir=out / f"slots{slots}")
        wall = time.perf_counter() - start
    finally:
        LLMClient._call = original  # type: ignore[method-assign]
    return phase_table(log, wall), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--skip-server-ratio", action="store_true")
    args = parser.parse_args()
    ratios: dict[str, float] = {}
    if not args.skip_server_ratio:
        from server_throughput import measure

        for model in ("qwen2.5-0.5b", "qwen2.5-1.5b"):
            t = measure(model, slots=args.slots)
            ratios[model] = t.ratio
            print(
                f"server {model}: 1 slot {t.single_tok_s:.1f} tok/s, {args.slots} slots "
                f"{t.parallel_tok_s:.1f} tok/s, ratio {t.ratio:.2f}x",
                flush=True,
            )
    with tempfile.TemporaryDirectory(prefix="dlpo-mainjob-") as tmp:
        tables, results = {}, {}
        for slots in (1, args.slots):
            tables[slots], results[slots] = run_main_job(slots, Path(tmp))
            r = results[slots]
            print(
                f"slots {slots}: {tables[slots]['all']['wall']:.0f} s; val {r.start.val} -> best {r.best.val}; "
                f"test start {r.start.test} best {r.best.test}",
                flush=True,
            )
    one, many = tables[1], tables[args.slots]
    forward_ratio = ratios.get("qwen2.5-0.5b")
    print()
    print(
        f"| phase | wall s (1 slot) | wall s ({args.slots} slots) | speed-up | of server ratio | calls 1/{args.slots} "
        f"| tokens 1/{args.slots} | sequences 1/{args.slots} |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for phase in [*[p for p in one if p != "all"], "all"]:
        a, b = one.get(phase, {}), many.get(phase, {})
        if not a.get("calls") and not b.get("calls"):
            continue
        speed = a["wall"] / b["wall"] if b.get("wall") else float("nan")
        model_ratio = ratios.get("qwen2.5-1.5b" if phase in ("backward", "optimizer") else "qwen2.5-0.5b")
        share = f"{speed / model_ratio:.0%}" if model_ratio and phase != "all" else "-"
        print(
            f"| {phase} | {a['wall']:.1f} | {b['wall']:.1f} | {speed:.2f}x | {share} | {a['calls']}/{b['calls']} "
            f"| {a['tokens']}/{b['tokens']} | {a['in_flight']:.2f}/{b['in_flight']:.2f} |"
        )
    print(
        f"\nbusy share (a request in flight): 1 slot {one['all']['busy']:.0%}, {args.slots} slots {many['all']['busy']:.0%}"
    )
    if forward_ratio:
        print(
            f"server ratio ({args.slots}/1 slots): " + ", ".join(f"{m} {r:.2f}x" for m, r in ratios.items())
        )


if __name__ == "__main__":
    main()
