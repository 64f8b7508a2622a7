"""Accuracy of each task's starting prompt, strict and reference-lenient, on the same outputs.

For each task (default `demo` and `gsm8k`), the forward engine answers the first N test questions
once (greedy) under the task's starting prompt; the strict scorer and the paper's lenient
reference scorer are both applied to those same outputs.

    .venv/bin/python benchmarks/task_accuracy.py [--engine local:qwen2.5-0.5b] [-n 20]
        [--tasks demo,gsm8k] [--data-dir ../shared/data] [--prompt "..."] [--show-failures]

Prints one line per task: strict k/N, reference k/N, how many replies have an `Answer:` line,
wall time and completion tokens; with --show-failures, the reason of every strict failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from dlpo.engines.client import LLMClient
from dlpo.engines.spec import build_engine
from dlpo.evaluation import evaluate
from dlpo.tasks.registry import load_task
from dlpo.tasks.scoring.extract import answer_segment

REPO = Path(__file__).resolve().parent.parent


def default_data_dir() -> str | None:
    if os.environ.get("DLPO_DATA_DIR"):
        return os.environ["DLPO_DATA_DIR"]
    shared = REPO.parent / "shared" / "data"
    return str(shared) if shared.is_dir() else None


async def run(args: argparse.Namespace) -> None:
    client = LLMClient(build_engine(args.engine))
    print(f"engine {args.engine}, N={args.n} test questions per task, greedy, max_tokens {args.max_tokens}")
    try:
        for name in args.tasks.split(","):
            strict = load_task(name, data_dir=args.data_dir)
            reference = load_task(name, data_dir=args.data_dir, scorer="reference")
            examples = strict.test[: args.n]
            prompt = strict.initial_prompt if args.prompt is None else args.prompt
            tokens_before = client.ledger.total().completion_tokens
            start = time.perf_counter()
            result = await evaluate(client, strict, prompt, examples, max_tokens=args.max_tokens)
            wall = time.perf_counter() - start
            lenient = [reference.score(r.output, r.example) for r in result.results]
            n_strict = sum(r.score.correct for r in result.results)
            n_ref = sum(s.correct for s in lenient)
            n_format = sum(answer_segment(r.output) is not None for r in result.results)
            print(
                f"{name:8s} strict ({strict.scorer_name}) {n_strict}/{len(examples)}   "
                f"reference ({reference.scorer_name}) {n_ref}/{len(examples)}   "
                f"Answer:-line present {n_format}/{len(examples)}   wall {wall:.0f}s   "
                f"completion tokens {client.ledger.total().completion_tokens - tokens_before}"
            )
            if args.show_failures:
                for r, lenient_score in zip(result.results, lenient):
                    if not r.score.correct:
                        tail = " ".join(r.output.split())[-90:]
                        print(
                            f"    {r.example.id}: {r.score.reason}  [ref: {lenient_score.reason}]  …{tail!r}"
                        )
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", default="local:qwen2.5-0.5b")
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--tasks", default="demo,gsm8k")
    parser.add_argument("--data-dir", default=default_data_dir())
    parser.add_argument(
        "--prompt", default=None, help="system prompt to use instead of each task's starting prompt"
    )
    parser.add_argument("--max-tokens", type=int, default=384)
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
