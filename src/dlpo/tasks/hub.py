"""Raw records from the Hugging Face hub, in the same shape as the local files, for users who are
online with the `hf` extra installed. `datasets` is imported lazily, inside each function.

Caveats (documented in `dlpo tasks`): the hub copy of MATH (EleutherAI/hendrycks_math) has no
`unique_id`, so its records get synthetic ids and the `math` split differs from the reference
index lists; BigGSM is not on the hub.
"""

from __future__ import annotations

from typing import Any

GSM8K_ID = "openai/gsm8k"
MGSM_ID = "juletxara/mgsm"
BBH_ID = "lukaemon/bbh"
MATH_ID = "EleutherAI/hendrycks_math"
MATH500_ID = "HuggingFaceH4/MATH-500"
MATH_SUBJECTS = (
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
)


def _load(path: str, config: str | None, split: str) -> list[dict[str, Any]]:
    import datasets  # the hf extra

    rows = (
        datasets.load_dataset(path, config, split=split)
        if config
        else datasets.load_dataset(path, split=split)
    )
    return [dict(row) for row in rows]


def gsm8k(split: str) -> list[dict[str, Any]]:
    """{question, answer} rows of the 'main' config; split 'train' or 'test'."""
    return _load(GSM8K_ID, "main", split)


def mgsm(lang: str, split: str) -> list[dict[str, Any]]:
    """{question, answer, answer_number, equation_solution}; 'train' = the 8 exemplars."""
    return _load(MGSM_ID, lang, split)


def bbh(task: str) -> list[dict[str, Any]]:
    """{input, target} rows of one BBH task."""
    return _load(BBH_ID, task, "test")


def math(split: str) -> list[dict[str, Any]]:
    """MATH rows with a synthetic `unique_id` '<split>/<subject>/<row>.json'."""
    rows = []
    for subject in MATH_SUBJECTS:
        for i, row in enumerate(_load(MATH_ID, subject, split)):
            rows.append({**row, "unique_id": f"{split}/{subject}/{i}.json"})
    return rows


def math500() -> list[dict[str, Any]]:
    return _load(MATH500_ID, None, "test")
