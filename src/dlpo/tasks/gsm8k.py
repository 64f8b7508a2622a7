"""GSM8K with the DLPO split (50/100/400, seed 7) or the TextGrad split (200/300/1319, seed 0).

DLPO shuffles train and test with `Random(seed)` (seed 7 = what its run seed 1001 draws):
train = shuffled train[0:50], val = [50:150], test = shuffled test[0:400]. TextGrad: seed 0,
train [0:200], val [200:500], all 1319 shuffled test items. `split_sizes` changes the cut points
(and `seed` the shuffle), so any seed gives a deterministic split.
"""

from __future__ import annotations

from pathlib import Path

from dlpo.tasks import datadir, hub
from dlpo.tasks.base import Example, Task
from dlpo.tasks.common import gsm_gold, pick_scorer, read_jsonl
from dlpo.tasks.prompts import GSM_PROMPT, NUMERIC_INSTRUCTION
from dlpo.tasks.splits import cut, permutation, resolve_sizes

REQUIRED = ("gsm8k/train.jsonl", "gsm8k/test.jsonl")
VARIANTS = {"dlpo": (7, (50, 100, 400)), "textgrad": (0, (200, 300, 1319))}


def _examples(rows: list[dict], split: str, where: str) -> list[Example]:
    out = []
    for i, row in enumerate(rows):
        gold, reasoning = gsm_gold(row["answer"], f"{where}, line {i + 1}")
        out.append(Example(f"gsm8k/{split}/{i}", row["question"], gold, {"line": i, "reasoning": reasoning}))
    return out


def load_gsm8k(
    *,
    data_dir: str | Path | None = None,
    seed: int | None = None,
    scorer: str | None = None,
    split_sizes: object = None,
    variant: str = "dlpo",
) -> Task:
    name = "gsm8k" if variant == "dlpo" else f"gsm8k:{variant}"
    default_seed, default_sizes = VARIANTS[variant]
    seed = default_seed if seed is None else seed
    root = datadir.resolve("gsm8k", REQUIRED, data_dir, hub_id=hub.GSM8K_ID)
    if root.is_hub:
        train_rows, test_rows = datadir.hub_or_error(
            root, "gsm8k", REQUIRED, hub.GSM8K_ID, lambda: (hub.gsm8k("train"), hub.gsm8k("test"))
        )
        where = hub.GSM8K_ID
    else:
        train_rows, test_rows = read_jsonl(root.file(REQUIRED[0])), read_jsonl(root.file(REQUIRED[1]))
        where = str(root.file("gsm8k"))
    train_pool = _examples(train_rows, "train", f"{where}/train")
    test_pool = _examples(test_rows, "test", f"{where}/test")
    n_train, n_val, n_test = resolve_sizes(split_sizes, default_sizes)
    train_order, test_order = permutation(len(train_pool), seed), permutation(len(test_pool), seed)
    train, val = cut([train_pool[i] for i in train_order], (n_train, n_val), name)
    (test,) = cut([test_pool[i] for i in test_order], (n_test,), name)
    return Task(
        name=name,
        train=train,
        val=val,
        test=test,
        scorer=pick_scorer(scorer, "numeric", "reference:gsm8k", name),
        answer_instruction=NUMERIC_INSTRUCTION,
        initial_prompt=GSM_PROMPT,
        description=f"GSM8K grade-school math word problems ({variant} split, seed {seed})",
        source=f"GSM8K (OpenAI, MIT) from {where}",
        answer_type="numeric",
    )
