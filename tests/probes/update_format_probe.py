"""Probe: tag replies vs JSON edit replies of the real 1.5B optimizer (issue 12, item 4).

    .venv/bin/python tests/probes/update_format_probe.py [--seeds 0 1 2] [--batches 2] [--task demo|units]

For each seed and each of the first `--batches` demo minibatches (batch 3), the 0.5B forward model
answers under the demo's starting prompt and the 1.5B backward model writes the gradient (dlpo's,
feedback `facts`, the task conventions of the train split). Then the same update request is sent to
the 1.5B optimizer twice, with TLR's budget of 4 edits: once asking for tags, once for JSON edits
(grammar-constrained through llama-server's `response_format`). The re-ask is counted; the
unchanged fallback is off so the formats are compared as they are.

Reported per format (n = update situations): parse failures and unchanged candidates of the first
reply, usable first replies (parsed, changed, passing every candidate check), and usable steps
after the one re-ask. Everything goes through one response cache (`--cache`), so a rerun is free.
Not collected by pytest (the file name does not start with test_).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from dlpo.cache import ResponseCache
from dlpo.engines.client import LLMClient
from dlpo.engines.spec import build_engine
from dlpo.optim.feedback import FeedbackPolicy
from dlpo.optim.loss import textual_loss
from dlpo.optim.presets import build_optimizer, resolve_recipe
from dlpo.optim.variable import Prompt
from dlpo.tasks.conventions import task_facts
from dlpo.tasks.registry import load_task
from dlpo.training.data import BatchSampler
from dlpo.usage import Ledger


class Structured:
    """An engine wrapper that declares structured-output support (what the engine owner is asked to
    add to the `local` and `openai` engines as `supports_json_schema = True`)."""

    supports_json_schema = True

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def cache_id(self) -> str:
        return self.inner.cache_id

    async def complete(self, requests: Any) -> Any:
        return await self.inner.complete(requests)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _first(parse: list[dict[str, Any]]) -> str:
    return parse[0]["reason"] if parse else "none"


def numeric_exact_task(folder: Path) -> Any:
    """A user's file task with numeric targets and exact-match scoring (where "unchanged" was seen
    in 3 of 4 steps): unit questions whose natural reply carries a unit ("8 cups")."""
    from dlpo.tasks.files import load_task_file

    rows = []
    for k in range(2, 14):
        rows.append({"input": f"How many cups are in {k} pints?", "target": str(2 * k)})
        rows.append({"input": f"How many minutes are in {k} hours?", "target": str(60 * k)})
    path = folder / "units.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return load_task_file(path, scorer="exact", split_sizes=(12, 4, 8))


async def probe(seeds: list[int], batches: int, cache_path: Path, task_name: str = "demo") -> dict[str, Any]:
    task = load_task("demo") if task_name == "demo" else numeric_exact_task(cache_path.parent)
    facts = task_facts(task, task.train)
    policy = FeedbackPolicy("facts", facts)
    cache, ledger = ResponseCache(cache_path), Ledger()
    fwd_engine = build_engine({"kind": "local", "model": "qwen2.5-0.5b", "slots": 1}, role="forward")
    bwd_engine = build_engine({"kind": "local", "model": "qwen2.5-1.5b", "slots": 1}, role="backward")
    forward = LLMClient(fwd_engine, cache=cache, ledger=ledger)
    backward = LLMClient(bwd_engine, cache=cache, ledger=ledger)
    structured = LLMClient(Structured(bwd_engine), cache=cache, ledger=ledger)
    rows: list[dict[str, Any]] = []
    try:
        for seed in seeds:
            sampler = BatchSampler(len(task.train), 3, seed)
            for b in range(batches):
                batch = [task.train[i] for i in sampler.next_batch()]
                prompt = Prompt(task.initial_prompt)
                loss = await textual_loss(forward, task, prompt, batch, max_tokens=160)
                if all(r.score.correct for r in loss.result.results):
                    rows.append({"seed": seed, "batch": b, "skipped": True})
                    continue
                grad = await loss.backward(
                    backward, critique_max_tokens=120, reduction_max_tokens=150, policy=policy
                )
                for fmt, client in (("tags", backward), ("json", structured)):
                    p = Prompt(task.initial_prompt)
                    p.grad = grad
                    opt, _ = build_optimizer(
                        resolve_recipe("tlr"),
                        p,
                        client,
                        score_fn=None,
                        seed=seed,
                        max_tokens=400,
                        update_format=fmt,
                        unchanged_fallback=False,
                    )
                    report = await opt.step()
                    parse = report.metrics["parse"]
                    first = _first(parse)
                    rows.append(
                        {
                            "seed": seed,
                            "batch": b,
                            "format": fmt,
                            "first_reason": first,
                            "parse_failed": first.startswith(
                                ("missing", "truncated", "repetition", "not json")
                            ),
                            "unchanged": first.startswith("unchanged"),
                            "usable_first": first == "ok",
                            "usable_step": not report.failed,
                            "reasked": len(report.raw_replies) > 1,
                            "methods": [x["method"] for x in parse],
                            "candidate": report.outcome.candidate,
                            "replies": report.raw_replies,
                        }
                    )
                    print(json.dumps({k: v for k, v in rows[-1].items() if k != "replies"}), flush=True)
    finally:
        await fwd_engine.aclose()
        await bwd_engine.aclose()
        cache.close()
    summary: dict[str, Any] = {}
    for fmt in ("tags", "json"):
        mine = [r for r in rows if r.get("format") == fmt]
        summary[fmt] = {
            "n": len(mine),
            **{
                k: sum(bool(r[k]) for r in mine)
                for k in ("parse_failed", "unchanged", "usable_first", "reasked", "usable_step")
            },
        }
    return {"summary": summary, "rows": rows, "usage": {k: v.calls for k, v in ledger.roles.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/dlpo-update-format-probe.sqlite"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--task", choices=("demo", "units"), default="demo", help="units: numeric, exact match"
    )
    args = parser.parse_args()
    result = asyncio.run(probe(args.seeds, args.batches, args.cache, args.task))
    print(json.dumps(result["summary"], indent=1), json.dumps(result["usage"]))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
