"""BIG-Bench Hard: 27 tasks, `bbh:<task>`.

Reference (DLPO) split: shuffle the task's examples with Random(1001) (the seed passed to the
reference is ignored); train = [0:50], val = [50:100], test = the rest: 50/50/150 for the 250-example
tasks, and for the three smaller ones causal_judgement 50/50/87, snarks 50/50/78,
penguins_in_a_table 50/50/46 (train and val keep 50 so the optimizer sees the same amount of data;
the test set shrinks). `variant="textgrad"`: no shuffle, [0:50] / [50:150] / [150:].
A `seed` replaces 1001; `split_sizes` caps each split.
"""

from __future__ import annotations

from pathlib import Path

from dlpo.errors import ConfigError
from dlpo.tasks import datadir, hub
from dlpo.tasks.base import Example, Task
from dlpo.tasks.common import pick_scorer, read_json
from dlpo.tasks.prompts import (
    BBH_PROMPT,
    CHOICE_INSTRUCTION,
    DYCK_INSTRUCTION,
    NUMERIC_INSTRUCTION,
    WORD_SORTING_INSTRUCTION,
    label_instruction,
)
from dlpo.tasks.splits import permutation, truncate

NUMERIC = ("multistep_arithmetic_two", "object_counting")
LABELS = {
    "boolean_expressions": ("True", "False"),
    "causal_judgement": ("Yes", "No"),
    "formal_fallacies": ("valid", "invalid"),
    "navigate": ("Yes", "No"),
    "sports_understanding": ("yes", "no"),
    "web_of_lies": ("Yes", "No"),
}
EXACT = {
    "word_sorting": ("exact", WORD_SORTING_INSTRUCTION),
    "dyck_languages": ("exact-nospace", DYCK_INSTRUCTION),
}
CHOICE = (
    "date_understanding",
    "disambiguation_qa",
    "geometric_shapes",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "logical_deduction_three_objects",
    "movie_recommendation",
    "penguins_in_a_table",
    "reasoning_about_colored_objects",
    "ruin_names",
    "salient_translation_error_detection",
    "snarks",
    "temporal_sequences",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
)
TASKS: tuple[str, ...] = tuple(sorted((*NUMERIC, *LABELS, *EXACT, *CHOICE)))
SIZES = {"causal_judgement": 187, "penguins_in_a_table": 146, "snarks": 178}  # others: 250


def answer_type(task: str) -> str:
    if task in NUMERIC:
        return "numeric"
    if task in LABELS:
        return "label"
    return "exact" if task in EXACT else "choice"


def task_format(task: str) -> tuple[str, str | None, str]:
    """(strict scorer, reference scorer or None, answer instruction) of a BBH task."""
    if task in NUMERIC:
        return "numeric", "reference:gsm8k", NUMERIC_INSTRUCTION
    if task in LABELS:
        return "label", None, label_instruction(LABELS[task])
    if task in EXACT:
        strict, instruction = EXACT[task]
        return strict, None, instruction
    return "choice", None, CHOICE_INSTRUCTION


def load_bbh(
    task: str,
    *,
    data_dir: str | Path | None = None,
    seed: int | None = None,
    scorer: str | None = None,
    split_sizes: object = None,
    variant: str = "dlpo",
) -> Task:
    if task not in TASKS:
        raise ConfigError(f"unknown BBH task {task!r}; known: {', '.join(TASKS)}")
    if variant not in ("dlpo", "textgrad"):
        raise ConfigError(f"bbh: unknown variant {variant!r}; use dlpo or textgrad")
    name = f"bbh:{task}"
    rel = f"bbh/bbh/{task}.json"
    root = datadir.resolve(name, (rel,), data_dir, hub_id=hub.BBH_ID)
    if root.is_hub:
        rows = datadir.hub_or_error(root, name, (rel,), hub.BBH_ID, lambda: hub.bbh(task))
        where = f"{hub.BBH_ID} ({task})"
    else:
        rows = read_json(root.file(rel))["examples"]
        where = str(root.file(rel))
    examples = [
        Example(f"bbh/{task}/{i}", row["input"], str(row["target"]), {"row": i}) for i, row in enumerate(rows)
    ]
    if variant == "textgrad":
        ordered = examples
        splits = (ordered[:50], ordered[50:150], ordered[150:])
    else:
        ordered = [examples[i] for i in permutation(len(examples), 1001 if seed is None else seed)]
        splits = (ordered[:50], ordered[50:100], ordered[100:])
    train, val, test = truncate(splits, split_sizes, name)
    strict, reference, instruction = task_format(task)
    return Task(
        name=name if variant == "dlpo" else f"{name}:textgrad",
        train=train,
        val=val,
        test=test,
        scorer=pick_scorer(scorer, strict, reference, name),
        answer_instruction=instruction,
        initial_prompt=BBH_PROMPT,
        description=f"BIG-Bench Hard {task.replace('_', ' ')} ({variant} split)",
        source=f"BIG-Bench Hard (MIT; BIG-bench Apache-2.0) from {where}",
        answer_type=answer_type(task),
    )
