"""Transfer: evaluate the prompts learned by a sweep's trials on other tasks and with other
forward models, e.g. gsm8k -> biggsm, mgsm, bbh:object_counting, or 0.5B -> 1.5B.

Each evaluation (trial x target task x forward engine) is stored as
`<sweep>/transfer/<trial>__<task>__<engine>.json` and never recomputed; model answers go through a
response cache in the same folder. The table has one row per (source task, method, target task,
forward engine): mean +- std over seeds of the learned prompt's test accuracy, next to the
target task's own starting prompt under the same forward engine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dlpo.experiments.spec import ExperimentSpec, TaskSpec
from dlpo.experiments.stats import mean_std
from dlpo.experiments.trials import Trial


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


async def _evaluate(
    task_spec: TaskSpec,
    engine_spec: str,
    prompts: list[str],
    limit: int | None,
    max_tokens: int,
    cache_path: Path,
) -> list[float]:
    from dlpo.cache import ResponseCache
    from dlpo.engines.client import LLMClient
    from dlpo.evaluation import evaluate
    from dlpo.experiments.engines import process_registry
    from dlpo.tasks.registry import load_task

    task = load_task(task_spec.name, **task_spec.options)
    test = task.test[:limit] if limit else task.test
    engine, owned = process_registry().get(engine_spec, "forward")
    cache = ResponseCache(cache_path)
    try:
        client = LLMClient(engine, cache=cache)
        out = []
        for prompt in prompts:
            text = task.initial_prompt if prompt is None else prompt
            out.append((await evaluate(client, task, text, test, role="test", max_tokens=max_tokens)).mean)
        return out
    finally:
        cache.close()
        if owned:
            await engine.aclose()


def run_transfer(
    spec: ExperimentSpec, trials: Sequence[Trial], rows: Sequence[dict[str, Any]], out_dir: str | Path
) -> tuple[list[dict[str, Any]], dict[str, Path]]:
    from dlpo.engines.base import run_sync
    from dlpo.experiments.tables import _f

    ts = spec.transfer
    assert ts is not None
    folder = Path(out_dir) / "transfer"
    folder.mkdir(parents=True, exist_ok=True)
    by_id = {t.id: t for t in trials}
    evals: list[dict[str, Any]] = []
    for row in rows:
        if ts.methods is not None and row["method"] not in ts.methods:
            continue
        trial = by_id[row["id"]]
        forwards = [trial.config["forward"], *ts.forwards]
        targets = [*ts.tasks, TaskSpec(name=trial.config["task"], options=trial.config["task_options"])]
        for target in targets:
            for fwd in forwards:
                if target.name == trial.config["task"] and fwd == trial.config["forward"]:
                    continue  # the trial itself
                path = folder / f"{trial.id}__{_safe(target.name)}__{_safe(fwd)}.json"
                if not path.exists():
                    learned, start = run_sync(
                        _evaluate(
                            target,
                            fwd,
                            [row[f"{ts.which}_prompt"], None],
                            ts.test_limit,
                            trial.config["forward_max_tokens"],
                            folder / "cache.sqlite",
                        )
                    )
                    path.write_text(json.dumps({"learned": learned, "start": start}), encoding="utf-8")
                data = json.loads(path.read_text(encoding="utf-8"))
                evals.append(
                    {
                        "source": trial.task,
                        "method": row["method"],
                        "seed": row["seed"],
                        "target": target.name,
                        "forward": fwd,
                        **data,
                    }
                )
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for e in evals:
        groups.setdefault((e["source"], e["method"], e["target"], e["forward"]), []).append(e)
    table = []
    for (source, method, target, fwd), es in sorted(groups.items()):
        m, s = mean_std([e["learned"] for e in es])
        table.append(
            {
                "source": source,
                "method": method,
                "target": target,
                "forward": fwd,
                "n": len(es),
                "learned_mean": m,
                "learned_std": s,
                "target_start": es[0]["start"],
            }
        )
    lines = [
        "| source task | method | target task | forward | n | learned prompt test (mean ± std) | target's start prompt |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['source']} | {r['method']} | {r['target']} | {r['forward']} | {r['n']} "
        f"| {_f(r['learned_mean'])} ± {_f(r['learned_std'])} | {_f(r['target_start'])} |"
        for r in table
    ]
    files = {"transfer_md": Path(out_dir) / "transfer.md", "transfer_json": Path(out_dir) / "transfer.json"}
    files["transfer_md"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    files["transfer_json"].write_text(
        json.dumps({"rows": table, "evaluations": evals}, indent=2), encoding="utf-8"
    )
    return table, files
