"""Task names -> tasks: `load_task(name, ...)` and `list_tasks()`.

Names: `demo`, `tickets`, `gsm8k`, `gsm8k:textgrad`, `biggsm`, `mgsm`, `mgsm:<lang>[,<lang>]`,
`bbh:<task>` (27 tasks; `bbh:<task>:textgrad` for TextGrad's split), `math`, `math500`.
A path to a `.jsonl`/`.csv`/`.tsv` file (or `file:<path>`) loads a user task file; the file
options (`input_col`, `target_col`, ...) pass through `**options`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError, DataError
from dlpo.tasks import bbh, biggsm, datadir, gsm8k, hub, math_tasks, mgsm, tickets
from dlpo.tasks.base import Task
from dlpo.tasks.demo import DEFAULT_SIZES, load_demo
from dlpo.tasks.files import SUFFIXES, load_task_file


@dataclass(frozen=True)
class TaskInfo:
    """One row of `dlpo tasks`. `data` is 'builtin' (no files needed), 'local', 'hub' or 'missing'."""

    name: str
    train: int
    val: int
    test: int
    answer_type: str
    scorer: str
    reference_scorer: str | None
    source: str
    data: str
    description: str = ""


def _mgsm_sizes(langs: int) -> tuple[int, int, int]:
    return (50, 100, 2588) if langs == len(mgsm.LANGS) else (50, 100, 258 * langs - 150)


def _bbh_infos() -> list[
    tuple[str, tuple[int, int, int], str, str, str | None, tuple[str, ...], str | None, str]
]:
    rows = []
    for task in bbh.TASKS:
        n = bbh.SIZES.get(task, 250)
        strict, reference, _ = bbh.task_format(task)
        rows.append(
            (
                f"bbh:{task}",
                (50, 50, n - 100),
                bbh.answer_type(task),
                strict,
                reference,
                (f"bbh/bbh/{task}.json",),
                hub.BBH_ID,
                "BIG-Bench Hard (MIT)",
            )
        )
    return rows


def _catalog() -> list[
    tuple[str, tuple[int, int, int], str, str, str | None, tuple[str, ...], str | None, str]
]:
    """(name, sizes, answer type, strict scorer, reference scorer, required files, hub id, source)."""
    rows = [
        ("demo", DEFAULT_SIZES, "numeric", "numeric", "reference:gsm8k", (), None, "generated (built in)"),
        ("tickets", tickets.DEFAULT_SIZES, "label", "whole", None, (), None, "generated (built in)"),
        (
            "gsm8k",
            (50, 100, 400),
            "numeric",
            "numeric",
            "reference:gsm8k",
            gsm8k.REQUIRED,
            hub.GSM8K_ID,
            "GSM8K (MIT)",
        ),
        (
            "gsm8k:textgrad",
            (200, 300, 1319),
            "numeric",
            "numeric",
            "reference:gsm8k",
            gsm8k.REQUIRED,
            hub.GSM8K_ID,
            "GSM8K (MIT), TextGrad split",
        ),
        (
            "biggsm",
            (190, 10, 410),
            "numeric",
            "numeric",
            "reference:mgsm",
            biggsm.REQUIRED,
            None,
            "BigGSM (license unclear)",
        ),
        (
            "mgsm",
            _mgsm_sizes(11),
            "numeric",
            "numeric",
            "reference:mgsm",
            mgsm.required(),
            hub.MGSM_ID,
            "MGSM (CC BY 4.0), 11 languages",
        ),
    ]
    for lang in mgsm.LANGS:
        rows.append(
            (
                f"mgsm:{lang}",
                _mgsm_sizes(1),
                "numeric",
                "numeric",
                "reference:mgsm",
                mgsm.required((lang,)),
                hub.MGSM_ID,
                f"MGSM (CC BY 4.0), {lang} only",
            )
        )
    rows += _bbh_infos()
    rows += [
        (
            "math",
            (100, 200, 300),
            "math",
            "math",
            "reference:math",
            math_tasks.REQUIRED,
            hub.MATH_ID,
            "MATH (MIT)",
        ),
        (
            "math500",
            (100, 200, 500),
            "math",
            "math",
            "reference:math",
            math_tasks.REQUIRED_500,
            hub.MATH500_ID,
            "MATH train/val, MATH-500 test (MIT)",
        ),
    ]
    return rows


def task_names() -> list[str]:
    return [row[0] for row in _catalog()]


def list_tasks(data_dir: str | Path | None = None) -> list[TaskInfo]:
    """Every built-in task with its reference split sizes and whether its data can be found
    (without downloading anything)."""
    out = []
    for name, sizes, answer_type, strict, reference, required, hub_id, source in _catalog():
        data = "builtin" if not required else datadir.data_available(required, data_dir, hub_id=hub_id)
        out.append(TaskInfo(name, *sizes, answer_type, strict, reference, source, data))
    return out


def _is_file_spec(name: str) -> bool:
    return name.startswith("file:") or Path(name).suffix.lower() in SUFFIXES


def _unknown(name: str) -> DataError:
    names = task_names()
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    if name.startswith("bbh:"):
        known = "BBH tasks: " + ", ".join(bbh.TASKS)
    else:
        known = (
            f"known tasks: demo, tickets, gsm8k, gsm8k:textgrad, biggsm, mgsm, mgsm:<lang>[,<lang>] "
            f"({', '.join(mgsm.LANGS)}), bbh:<task> (27, see `dlpo tasks`), math, math500; "
            f"or a .jsonl/.csv/.tsv task file"
        )
    return DataError(f"unknown task {name!r}.{hint} {known[0].upper()}{known[1:]}")


def load_task(
    name: str,
    *,
    data_dir: str | Path | None = None,
    seed: int | None = None,
    scorer: str | None = None,
    split_sizes: object = None,
    **options: Any,
) -> Task:
    """Load a built-in task or a task file by name. `scorer`: None/'strict' (default), 'reference'
    (the paper's lenient scorer for that benchmark) or any scorer name. `seed`: the split seed
    (None = the reference seed). `split_sizes`: (train, val, test), see each loader."""
    name = name.strip()
    if _is_file_spec(name):
        path = name.removeprefix("file:")
        file_opts = dict(options)
        if scorer not in (None, "strict"):
            file_opts["scorer"] = scorer
        return load_task_file(path, seed=0 if seed is None else seed, split_sizes=split_sizes, **file_opts)
    common: dict[str, Any] = {
        "data_dir": data_dir,
        "seed": seed,
        "scorer": scorer,
        "split_sizes": split_sizes,
    }
    head, _, rest = name.partition(":")
    variant = options.pop("variant", None)
    if options:
        raise ConfigError(f"task {name}: unknown option {min(options)!r}")
    if head == "demo" and not rest:
        return load_demo(seed=seed, scorer=scorer, split_sizes=split_sizes)
    if head == "tickets" and not rest:
        return tickets.load_tickets(seed=seed, scorer=scorer, split_sizes=split_sizes)
    if head == "gsm8k" and rest in ("", "dlpo", "textgrad"):
        return gsm8k.load_gsm8k(**common, variant=variant or rest or "dlpo")
    if head == "biggsm" and not rest:
        return biggsm.load_biggsm(**common)
    if head == "mgsm":
        return mgsm.load_mgsm(**common, langs=rest or None)
    if head == "bbh" and rest:
        task, _, split_variant = rest.partition(":")
        if task not in bbh.TASKS:
            raise _unknown(name)
        return bbh.load_bbh(task, **common, variant=variant or split_variant or "dlpo")
    if head in ("math", "math500") and not rest:
        return math_tasks.load_math(**common, test_set=head)
    raise _unknown(name)
