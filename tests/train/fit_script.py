"""Run a scripted-engine `fit` in its own process, for the SIGKILL resume test.

    python fit_script.py RUN_DIR [--resume] [--delay SECONDS] [--steps N]

`--delay` makes every scripted reply take that long, so the test can kill the process mid-step.
Prints the result as one JSON line at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scripted_setup import SlowEngine, engines, make_config, make_task

from dlpo.train import afit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    fwd, bwd = engines()
    if args.delay:
        fwd, bwd = SlowEngine(fwd, args.delay), SlowEngine(bwd, args.delay)
    config = make_config("dlpo", steps=args.steps)
    kwargs = {"resume": args.run_dir} if args.resume else {"run_dir": args.run_dir}
    result = asyncio.run(afit(config, task=make_task(), forward_engine=fwd, backward_engine=bwd, **kwargs))
    print(json.dumps(result.to_dict()))


if __name__ == "__main__":
    main()
