"""Helpers shared by the built-in loaders: reading files, picking the scorer, gold parsing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError, DataError
from dlpo.tasks.base import Scorer
from dlpo.tasks.scoring import make_scorer


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}, line {line_no}: not valid JSON ({exc.msg})") from exc
    return rows


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from exc


def pick_scorer(choice: str | None, strict: str, reference: str | None, task: str) -> Scorer:
    """`choice` None/'strict' -> the strict scorer; 'reference' -> the paper's lenient scorer for
    this benchmark; any other name -> that scorer."""
    if choice in (None, "strict"):
        return make_scorer(strict)
    if choice == "reference":
        if reference is None:
            raise ConfigError(
                f"task {task} has no string-based reference scorer: the paper's code judged it with an "
                f"LLM (gpt-4o); use the strict scorer {strict!r}"
            )
        return make_scorer(reference)
    return make_scorer(choice)


def gsm_gold(answer: str, where: str, strip_period: bool = False) -> tuple[str, str]:
    """(gold, reasoning) from a GSM-style answer ending in '#### N' (DSPy-style parse)."""
    tokens = answer.split()
    if len(tokens) < 2 or tokens[-2] != "####":
        raise DataError(f"{where}: the answer does not end with '#### <number>'")
    last = tokens[-1].rstrip(".") if strip_period else tokens[-1]
    try:
        gold = str(int(last.replace(",", "")))
    except ValueError as exc:
        raise DataError(f"{where}: final answer {tokens[-1]!r} is not an integer") from exc
    return gold, " ".join(tokens[:-2])
