"""How much the answer limit decides a finished run's scores: per prompt, the share of its answers cut
off at `forward_max_tokens`, and how many were right among the answers that finished and among the
cut-off ones.

Reads a run or sweep-trial folder after the fact (its `config.json` and its response cache,
`cache.sqlite`): no model call. Every forward answer the run made at the answer limit is counted,
on whatever split it was asked (minibatch, validation, test), each question once per prompt.

    .venv/bin/python benchmarks/cut_off_accuracy.py RUN_DIR [--data-dir ../shared/data] [--top 5]

Prints one line per prompt (most answers first): answers, cut-off share, right/finished,
right/cut off, and the prompt's opening words. A prompt right on many more of its finished answers
than the start, with many of its answers cut off, is a prompt the limit holds back.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from dlpo.cache import ResponseCache
from dlpo.tasks.base import Example, Task
from dlpo.tasks.registry import load_task

REPO = Path(__file__).resolve().parent.parent


@dataclass
class PromptTally:
    answers: int = 0
    cut: int = 0
    right_finished: int = 0
    right_cut: int = 0


def default_data_dir() -> str | None:
    if os.environ.get("DLPO_DATA_DIR"):
        return os.environ["DLPO_DATA_DIR"]
    shared = REPO.parent / "shared" / "data"
    return str(shared) if shared.is_dir() else None


def examples_by_input(task: Task) -> dict[str, Example]:
    """Every example of the task, keyed by the user message the forward model was sent."""
    return {task.format_input(ex): ex for split in (task.train, task.val, task.test) for ex in split}


def tally(run_dir: Path, data_dir: str | None) -> tuple[dict[str, PromptTally], int]:
    config = json.loads((run_dir / "config.json").read_text())
    task = load_task(config["task"], data_dir=data_dir, **config.get("task_options", {}))
    limit = config["forward_max_tokens"]
    known = examples_by_input(task)
    tallies: dict[str, PromptTally] = defaultdict(PromptTally)
    cache = ResponseCache(run_dir / "cache.sqlite")
    try:
        for request, completion in cache.entries():
            messages = request.get("messages") or []
            if request.get("max_tokens") != limit or len(messages) != 2:
                continue
            example = known.get(messages[-1]["content"])
            if example is None:
                continue  # a backward call with the forward limit, not an answer to a task question
            t = tallies[messages[0]["content"]]
            right = task.score(completion.text, example).correct
            t.answers += 1
            if completion.finish_reason == "length":
                t.cut += 1
                t.right_cut += right
            else:
                t.right_finished += right
    finally:
        cache.close()
    return tallies, limit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--data-dir", default=default_data_dir())
    parser.add_argument("--top", type=int, default=5, help="prompts to show, most answers first")
    args = parser.parse_args()
    tallies, limit = tally(args.run_dir, args.data_dir)
    print(f"{args.run_dir.name}: forward answers at the {limit}-token answer limit, per prompt")
    ranked = sorted(tallies.items(), key=lambda kv: -kv[1].answers)[: args.top]
    for prompt, t in ranked:
        finished = t.answers - t.cut
        print(
            f"  {t.answers:4d} answers  cut off {t.cut / t.answers:4.0%}  "
            f"right {t.right_finished}/{finished} finished, {t.right_cut}/{t.cut} cut off   "
            f"{' '.join(prompt.split())[:70]!r}"
        )


if __name__ == "__main__":
    main()
