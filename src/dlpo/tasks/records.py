"""Rows of a task given in Python: a list of dicts, a pandas DataFrame or a Hugging Face dataset.

`as_rows` turns them into the (row number, record) pairs `tasks.files.build_task` reads. A
Hugging Face `DatasetDict` keeps its own splits: its `train`, `validation`/`dev` and `test` parts
become the task's (through a split column).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dlpo.errors import DataError

SPLIT_COLUMN = "__dlpo_split__"
HF_SPLITS = {"train": "train", "validation": "val", "valid": "val", "dev": "val", "test": "test"}


def as_rows(records: Any, split: str | None) -> tuple[list[tuple[int, dict[str, Any]]], str | None]:
    """(row number from 1, record) pairs and the split column to use (None: split by sizes)."""
    if _is_dataset_dict(records):
        rows: list[dict[str, Any]] = []
        for part, data in records.items():
            which = HF_SPLITS.get(str(part).lower())
            if which is None:
                raise DataError(f"records: dataset split {part!r} is not train, validation or test")
            rows.extend({**dict(r), SPLIT_COLUMN: which} for r in data)
        return _numbered(rows), SPLIT_COLUMN
    if hasattr(records, "to_dict") and hasattr(records, "columns"):  # a pandas DataFrame
        records = records.to_dict("records")
    if isinstance(records, Mapping) or not isinstance(records, Iterable):
        raise DataError(
            f"records: expected rows (a list of dicts, a DataFrame or a dataset), got {type(records).__name__}"
        )
    return _numbered(records), split


def _numbered(records: Iterable[Any]) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for n, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise DataError(
                f"records, row {n}: expected a dict of column -> value, got {type(record).__name__}"
            )
        out.append((n, dict(record)))
    return out


def _is_dataset_dict(records: Any) -> bool:
    return type(records).__name__ in ("DatasetDict", "IterableDatasetDict") and hasattr(records, "items")
