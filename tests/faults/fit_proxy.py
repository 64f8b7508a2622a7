"""Run a small real-model `fit` through the fault proxy, in its own process (it may be SIGKILLed).

    python fit_proxy.py RUN_DIR --base-url URL [--resume] [--preset tgd] [--steps 1] [--timeout S]

Both roles use the 0.5B model behind `--base-url` with tiny settings (batch 2, val 2, test 2,
short answers). The engines retry generously (10 retries, backoff capped at 3 s) so a server
restart in the middle of a step is ridden out. Prints the result as one JSON line at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random

from dlpo.engines.openai_engine import OpenAIEngine
from dlpo.engines.retry import Backoff
from dlpo.optim.presets import resolve_recipe
from dlpo.train import TrainConfig, afit

MODEL = "qwen2.5-0.5b"


def make_config(base_url: str, preset: str, steps: int) -> TrainConfig:
    spec = f"openai:{MODEL}@{base_url}"
    return TrainConfig(
        task="demo",
        recipe=resolve_recipe(preset),
        steps=steps,
        batch_size=2,
        val_limit=2,
        test_limit=2,
        acceptance_set=2,
        forward_max_tokens=40,
        critique_max_tokens=40,
        reduction_max_tokens=60,
        forward=spec,
        backward=spec,
    )


async def run(args: argparse.Namespace) -> dict:
    engine = OpenAIEngine(
        MODEL,
        base_url=args.base_url,
        timeout=args.timeout,
        concurrency=2,
        max_retries=10,
        backoff=Backoff(base=0.2, cap=3.0, rng=random.Random()),
    )
    config = make_config(args.base_url, args.preset, args.steps)
    where = {"resume": args.run_dir} if args.resume else {"run_dir": args.run_dir}
    try:
        result = await afit(
            None if args.resume else config, forward_engine=engine, backward_engine=engine, **where
        )
    finally:
        await engine.aclose()
    return result.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--preset", default="tgd")
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
