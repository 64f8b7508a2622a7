"""MATH (Hendrycks) with DLPO's split, and MATH-500 as a fixed test set.

`math`: read MATH train and test, ordered subject folder by subject folder (sorted by name) and
file name as a *string* within each (`1.json, 10.json, 100.json`, the Windows listing the authors
ran on — an assumption, SPLITS.md); drop problems whose solution has no complete `\\boxed{}`
(7498 train and 5000 test remain); gold = the last boxed content. Shuffle train and test with
Random(seed), seed 7 by default: train = train[0:100], val = train[100:300], test = test[0:300].
`split_sizes` changes the cut points.

`math500`: the same train/val as `math`, test = the 500 MATH-500 problems (gold = their `answer`
field). MATH-500 is a subset of MATH's test set, so it never overlaps train/val.
"""

from __future__ import annotations

from pathlib import Path

from dlpo.tasks import datadir, hub
from dlpo.tasks.base import Example, Task
from dlpo.tasks.common import pick_scorer, read_jsonl
from dlpo.tasks.prompts import MATH_INSTRUCTION, MATH_PROMPT
from dlpo.tasks.scoring.extract import boxed_contents
from dlpo.tasks.splits import cut, permutation, resolve_sizes

REQUIRED = ("math/MATH_train.jsonl.gz", "math/MATH_test.jsonl.gz")
REQUIRED_500 = ("math/MATH_train.jsonl.gz", "math/math500_test.jsonl")


def _order_key(row: dict) -> tuple[str, str]:
    parts = row["unique_id"].split("/")
    return parts[-2], parts[-1]


def _examples(rows: list[dict]) -> list[Example]:
    out = []
    for row in sorted(rows, key=_order_key):
        boxes = boxed_contents(row["solution"])
        if not boxes:
            continue
        meta = {"subject": row.get("type", ""), "level": row.get("level", ""), "reasoning": row["solution"]}
        out.append(Example(row["unique_id"], row["problem"], boxes[-1].strip(), meta))
    return out


def _rows(root: datadir.DataRoot, split: str, required: tuple[str, ...]) -> list[dict]:
    if root.is_hub:
        return datadir.hub_or_error(root, "math", required, hub.MATH_ID, lambda: hub.math(split))
    return read_jsonl(root.file(f"math/MATH_{split}.jsonl.gz"))


def _math500(root: datadir.DataRoot) -> list[Example]:
    if root.is_hub:
        rows = datadir.hub_or_error(root, "math500", REQUIRED_500, hub.MATH500_ID, hub.math500)
    else:
        rows = read_jsonl(root.file("math/math500_test.jsonl"))
    meta = ("subject", "level")
    return [Example(r["unique_id"], r["problem"], r["answer"], {k: r.get(k) for k in meta}) for r in rows]


def load_math(
    *,
    data_dir: str | Path | None = None,
    seed: int | None = None,
    scorer: str | None = None,
    split_sizes: object = None,
    test_set: str = "math",
) -> Task:
    """`test_set="math500"` gives the `math500` task."""
    seed = 7 if seed is None else seed
    name = "math" if test_set == "math" else "math500"
    required = REQUIRED if test_set == "math" else REQUIRED_500
    root = datadir.resolve(name, required, data_dir, hub_id=hub.MATH_ID)
    train_pool = _examples(_rows(root, "train", required))
    default_test = 300 if test_set == "math" else 500
    n_train, n_val, n_test = resolve_sizes(split_sizes, (100, 200, default_test))
    train, val = cut([train_pool[i] for i in permutation(len(train_pool), seed)], (n_train, n_val), name)
    if test_set == "math":
        test_pool = _examples(_rows(root, "test", required))
        (test,) = cut([test_pool[i] for i in permutation(len(test_pool), seed)], (n_test,), name)
    else:
        (test,) = cut(_math500(root), (n_test,), name)
    where = "the Hugging Face hub" if root.is_hub else str(root.file("math"))
    return Task(
        name=name,
        train=train,
        val=val,
        test=test,
        scorer=pick_scorer(scorer, "math", "reference:math", name),
        answer_instruction=MATH_INSTRUCTION,
        initial_prompt=MATH_PROMPT,
        description="MATH competition problems"
        + (" (test: MATH-500)" if name == "math500" else f" (seed {seed})"),
        source=f"MATH (Hendrycks et al., MIT) from {where}",
        answer_type="math",
    )
