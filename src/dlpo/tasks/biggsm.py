"""BigGSM (DLPO's `BIG_GSM`): 610 long multi-step problems with answers up to 16 digits.

Reference split (fixed seeds): shuffle all with Random(1001); the first 200 are a pool, the other
410 the test set; shuffle the pool with Random(1002): train = pool[0:190], val = pool[190:200].
A `seed` replaces 1001 and 1002 by seed and seed+1. `split_sizes` caps each split. Not on the
Hugging Face hub, and its license is unclear, so it is read only from a data folder.
"""

from __future__ import annotations

from pathlib import Path

from dlpo.tasks import datadir
from dlpo.tasks.base import Example, Task
from dlpo.tasks.common import gsm_gold, pick_scorer, read_jsonl
from dlpo.tasks.prompts import GSM_PROMPT, NUMERIC_INSTRUCTION
from dlpo.tasks.splits import permutation, truncate

REQUIRED = ("biggsm/data.jsonl",)


def load_biggsm(
    *,
    data_dir: str | Path | None = None,
    seed: int | None = None,
    scorer: str | None = None,
    split_sizes: object = None,
) -> Task:
    root = datadir.resolve("biggsm", REQUIRED, data_dir, hub_id=None)
    path = root.file(REQUIRED[0])
    rows = read_jsonl(path)
    examples = []
    for i, row in enumerate(rows):
        gold, reasoning = gsm_gold(row["answer"], f"{path}, line {i + 1}", strip_period=True)
        meta = {"line": i, "index": row.get("index"), "reasoning": reasoning}
        examples.append(Example(f"biggsm/{i}", row["question"], gold, meta))
    first, second = (1001, 1002) if seed is None else (seed, seed + 1)
    order = permutation(len(examples), first)
    pool, test_idx = order[:200], order[200:]
    pool = [pool[j] for j in permutation(len(pool), second)]
    train, val, test = truncate(
        (
            [examples[i] for i in pool[:190]],
            [examples[i] for i in pool[190:]],
            [examples[i] for i in test_idx],
        ),
        split_sizes,
        "biggsm",
    )
    return Task(
        name="biggsm",
        train=train,
        val=val,
        test=test,
        scorer=pick_scorer(scorer, "numeric", "reference:mgsm", "biggsm"),
        answer_instruction=NUMERIC_INSTRUCTION,
        initial_prompt=GSM_PROMPT,
        description="BigGSM long multi-step arithmetic word problems (answers up to 16 digits)",
        source=f"BigGSM (LightChen233/reasoning-boundary, license unclear) from {path}",
        answer_type="numeric",
    )
