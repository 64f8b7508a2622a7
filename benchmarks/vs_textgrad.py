"""Speed per optimizer step: dlpo (`tgd` and `dlpo` presets) against the `textgrad` package.

    .venv/bin/python benchmarks/vs_textgrad.py [--steps 2] [--batch-size 3] [--val 4] [--slots 4]

Both talk to the same local `llama-server -np SLOTS` (0.5B model) through one counting proxy
(tests/faults/proxy.py, no faults), on the same demo split, the same minibatches, batch size and
number of steps, each with a cold cache (a fresh run folder for dlpo, a fresh XDG cache folder
for textgrad). The proxy caps every reply at `--cap` tokens for both, so the work per call is
comparable (textgrad asks for up to 2000). textgrad runs in its own venv under
~/.cache/dlpo/bench-textgrad (created with `pip install textgrad` if missing); if it cannot be
installed or run, the script says why and exits 2.

Per step it prints wall time, LLM calls and tokens, and the textgrad/dlpo ratios. The speed-up
is split exactly as  wall ratio = (calls ratio) x (seconds-per-call ratio):  the first factor is
the calls dlpo avoids, the second what concurrency (and shorter prompts) buy per call.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV = Path.home() / ".cache" / "dlpo" / "bench-textgrad"
RUNNER = Path(__file__).with_name("vs_textgrad_runner.py")
MODEL = "qwen2.5-0.5b"


def fail(message: str) -> None:
    print(f"cannot run the benchmark: {message}", file=sys.stderr)
    sys.exit(2)


def load_module(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def textgrad_python() -> Path:
    """The benchmark venv's python with textgrad importable (installed on first use). The import
    checks run in the temp folder: importing textgrad creates ./logs."""
    python = VENV / "bin" / "python"
    if (
        python.exists()
        and subprocess.run(
            [python, "-c", "import textgrad"], check=False, cwd=tempfile.gettempdir(), capture_output=True
        ).returncode
        == 0
    ):
        return python
    print(f"installing textgrad into {VENV} (first run only)")
    if subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=False).returncode != 0:
        fail(f"could not create a venv at {VENV}")
    pip = subprocess.run(
        [python, "-m", "pip", "install", "-q", "textgrad"], check=False, capture_output=True, text=True
    )
    if pip.returncode != 0:
        fail(f"`pip install textgrad` failed: {pip.stderr.strip().splitlines()[-1:]}")
    check = subprocess.run(
        [python, "-c", "import textgrad"],
        check=False,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        fail(f"textgrad does not import: {check.stderr.strip().splitlines()[-1:]}")
    return python


def per_step(log: list[Any], boundaries: list[float]) -> list[dict[str, float]]:
    """Wall time, calls and tokens between consecutive step boundaries (from the proxy's log)."""
    rows = []
    for a, b in itertools.pairwise(boundaries):
        calls = [r for r in log if r.completed and a < r.t_end <= b]
        tokens = sum(r.prompt_tokens + r.completion_tokens for r in calls)
        rows.append({"wall_s": b - a, "calls": len(calls), "tokens": tokens})
    return rows


def run_textgrad(
    python: Path, proxy: Any, task: Any, batches: list[list[int]], args: argparse.Namespace
) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        spec = {
            "base_url": proxy.base_url,
            "model": MODEL,
            "initial_prompt": task.initial_prompt,
            "train": [{"input": task.format_input(e), "target": e.target} for e in task.train],
            "val": [{"input": task.format_input(e), "target": e.target} for e in task.val[: args.val]],
            "batches": batches,
            "workers": args.slots,
        }
        (Path(tmp) / "spec.json").write_text(json.dumps(spec))
        env = {
            **os.environ,
            "XDG_CACHE_HOME": str(Path(tmp) / "cache"),
            "OPENAI_API_KEY": "sk-no-key",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "TEXTGRAD_LOG_DIR": str(Path(tmp) / "logs"),
        }  # textgrad logs to ./logs by default  # litellm (a textgrad dependency): no fetch
        start = len(proxy.log)
        done = subprocess.run([python, RUNNER, Path(tmp) / "spec.json", Path(tmp) / "out.json"], env=env,
                              check=False, capture_output=True, text=True)  # fmt: skip
        if done.returncode != 0:
            fail(f"the textgrad loop failed: {done.stderr.strip()[-1500:]}")
        out = json.loads((Path(tmp) / "out.json").read_text())
    return per_step(proxy.log[start:], out["boundaries"])


async def run_dlpo(preset: str, proxy: Any, args: argparse.Namespace) -> list:
    from dlpo.engines.openai_engine import OpenAIEngine
    from dlpo.optim.presets import resolve_recipe
    from dlpo.train import TrainConfig, afit

    spec = f"openai:{MODEL}@{proxy.base_url}"
    config = TrainConfig(task="demo", recipe=resolve_recipe(preset), steps=args.steps, batch_size=args.batch_size,
                         val_limit=args.val, test_limit=1, acceptance_set=args.val, seed=args.seed,
                         forward=spec, backward=spec)  # fmt: skip
    boundaries: list[float] = []

    def on_event(event: dict) -> None:
        if event["type"] == "usage" and event["step"] == len(boundaries):
            boundaries.append(time.time())  # after step k's validation (k = 0: the starting prompt's)

    engine = OpenAIEngine(MODEL, base_url=proxy.base_url, concurrency=args.slots, timeout=600)
    start = len(proxy.log)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            await afit(config, run_dir=Path(tmp) / "run", forward_engine=engine, backward_engine=engine,
                       on_event=on_event)  # fmt: skip
        finally:
            await engine.aclose()
    return per_step(proxy.log[start:], boundaries[: args.steps + 1])


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def print_table(results: dict[str, list[dict[str, float]]]) -> None:
    print(f"\n{'system':<12} {'step':>4} {'wall s':>8} {'calls':>6} {'tokens':>7}")
    for name, rows in results.items():
        for i, r in enumerate(rows, 1):
            print(f"{name:<12} {i:>4} {r['wall_s']:>8.1f} {r['calls']:>6} {r['tokens']:>7}")
    tg = results.get("textgrad")
    if not tg:
        return
    print("\nratios textgrad / dlpo per step (wall = calls x s-per-call):")
    for name in (n for n in results if n != "textgrad"):
        for i, (a, b) in enumerate(zip(tg, results[name], strict=False), 1):
            wall, calls = a["wall_s"] / b["wall_s"], a["calls"] / max(b["calls"], 1)
            per_call = wall / calls if calls else float("nan")
            print(f"  {name:<10} step {i}: wall {wall:.2f}x = calls {calls:.2f}x * per-call {per_call:.2f}x; "
                  f"tokens {a['tokens'] / max(b['tokens'], 1):.2f}x")  # fmt: skip
        total = [sum(r[k] for r in rows) for rows in (tg, results[name]) for k in ("wall_s", "calls")]
        print(
            f"  {name:<10} all steps: wall {total[0] / total[2]:.2f}x, calls {total[1] / max(total[3], 1):.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=3)
    parser.add_argument("--val", type=int, default=4, help="validation examples per step")
    parser.add_argument("--slots", type=int, default=4, help="llama-server parallel slots (-np)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--cap", type=int, default=256, help="max tokens per reply, for both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-textgrad", action="store_true")
    args = parser.parse_args()

    from dlpo.engines.models import ensure_model
    from dlpo.errors import ModelInstallError
    from dlpo.tasks.registry import load_task
    from dlpo.training.data import BatchSampler

    python = None if args.skip_textgrad else textgrad_python()
    overhead = load_module("engine_overhead", Path(__file__).with_name("engine_overhead.py"))
    proxy_mod = load_module("fault_proxy", ROOT / "tests" / "faults" / "proxy.py")
    try:
        gguf = ensure_model(MODEL, progress=False)
    except ModelInstallError as exc:
        fail(str(exc))
    task = load_task("demo")
    sampler = BatchSampler(len(task.train), args.batch_size, args.seed)
    batches = [sampler.next_batch() for _ in range(args.steps)]  # the minibatches dlpo draws too
    port = proxy_mod.free_port() if hasattr(proxy_mod, "free_port") else _free_port()
    server = overhead.start_server(overhead.find_llama_server(), gguf, port, args.slots, args.threads)
    proxy = proxy_mod.FaultProxy(port, max_tokens_cap=args.cap, prompt_cache=True).start()
    results: dict[str, list[dict[str, float]]] = {}
    try:
        if python is not None:
            results["textgrad"] = run_textgrad(python, proxy, task, batches, args)
        for preset in ("tgd", "dlpo"):
            results[f"dlpo {preset}"] = asyncio.run(run_dlpo(preset, proxy, args))
    finally:
        proxy.stop()
        server.terminate()
        server.wait(timeout=15)
    print(f"model {MODEL}, llama-server -np {args.slots} -t {args.threads}, demo task, batch {args.batch_size}, "
          f"{args.steps} steps, val {args.val}, replies capped at {args.cap} tokens, cold caches")  # fmt: skip
    print_table(results)


if __name__ == "__main__":
    main()
