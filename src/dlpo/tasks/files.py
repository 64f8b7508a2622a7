"""User tasks from a JSONL or CSV/TSV file (`--task-file`).

Each row gives an input and a target (column names chosen with `input_col`/`target_col`), an
optional id column and an optional split column (train/val/test; 'dev'/'validation' mean val).
Without a split column the rows are shuffled with `random.Random(seed)` and cut by `split_sizes`
(default: 30% train, 20% val, the rest test). A bad file raises one DataError naming the file, the
line and what is wrong — never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from dlpo.errors import DataError
from dlpo.tasks.base import Example, Task
from dlpo.tasks.prompts import instruction_for
from dlpo.tasks.scoring import check_target, make_scorer
from dlpo.tasks.splits import normalize_sizes, permutation

SUFFIXES = (".jsonl", ".ndjson", ".csv", ".tsv")
SPLIT_ALIASES = {
    "train": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "dev": "val",
    "test": "test",
}
DEFAULT_PROMPT = "You will answer a question."

Row = tuple[int, dict[str, Any]]  # (line number, record)


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: task file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the task file ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}, line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None


def _jsonl_rows(path: Path, text: str) -> list[Row]:
    rows = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}, line {line_no}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}, line {line_no}: expected a JSON object, got {type(record).__name__}")
        rows.append((line_no, record))
    return rows


def _csv_rows(path: Path, text: str, delimiter: str) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if not reader.fieldnames:
        raise DataError(f"{path}: the file is empty (expected a header line)")
    rows = []
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
        if None in record:
            raise DataError(f"{path}, line {reader.line_num}: more fields than the header has columns")
        if all(not (v or "").strip() for v in record.values()):
            continue
        rows.append((reader.line_num, record))
    return rows


def _column(where: Any, line: int, record: dict[str, Any], col: str, what: str) -> str:
    at = _at(where, line)
    if col not in record:
        found = ", ".join(repr(k) for k in list(record)[:8]) or "none"
        hint = f"choose it with --{what}-col" if isinstance(where, Path) else f"choose it with {what}="
        raise DataError(f"{at}: no {what} column {col!r} (columns found: {found}); {hint}")
    value = record[col]
    if value is None or (isinstance(value, (dict, list))):
        raise DataError(
            f"{at}: column {col!r} must be text or a number, got {json.dumps(value, default=str)}"
        )
    return str(value).strip()


def _at(where: Any, line: int) -> str:
    """Where a row is, for error messages: "file.csv, line 7" or "records, row 3"."""
    return f"{where}, line {line}" if isinstance(where, Path) else f"{where}, row {line}"


def read_rows(path: str | Path) -> list[Row]:
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(
            f"{path}: unsupported task file type {path.suffix!r}; use one of {', '.join(SUFFIXES)}"
        )
    text = _decode(path)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return _jsonl_rows(path, text)
    return _csv_rows(path, text, "\t" if path.suffix.lower() == ".tsv" else ",")


def _answer_type(scorer_name: str) -> str:
    if scorer_name in ("math", "reference:math"):
        return "math"
    if scorer_name.startswith("reference:"):
        return "numeric"
    return scorer_name.split("-")[0]  # exact-nospace -> exact


def _default_sizes(n: int) -> tuple[int, int, int]:
    train, val = max(1, round(n * 0.3)), max(1, round(n * 0.2))
    return train, val, n - train - val


def load_task_file(
    path: str | Path,
    *,
    input_col: str = "input",
    target_col: str = "target",
    id_col: str | None = None,
    scorer: str = "exact",
    answer_instruction: str | None = None,
    split_col: str | None = None,
    split_sizes: object = None,
    seed: int = 0,
    initial_prompt: str | None = None,
    name: str | None = None,
) -> Task:
    path = Path(path)
    rows = read_rows(path)
    if not rows:
        raise DataError(f"{path}: no examples in the file")
    return build_task(
        rows,
        where=path,
        input_col=input_col,
        target_col=target_col,
        id_col=id_col,
        scorer=scorer,
        answer_instruction=answer_instruction,
        split_col=split_col,
        split_sizes=split_sizes,
        seed=seed,
        initial_prompt=initial_prompt,
        name=name or path.stem,
        description=f"user task from {path.name} ({len(rows)} examples)",
        source=str(path),
    )


def build_task(
    rows: list[Row],
    *,
    where: Path | str,
    input_col: str = "input",
    target_col: str = "target",
    id_col: str | None = None,
    scorer: str = "exact",
    answer_instruction: str | None = None,
    split_col: str | None = None,
    split_sizes: object = None,
    seed: int = 0,
    initial_prompt: str | None = None,
    name: str = "records",
    description: str = "",
    source: str = "",
    scored_by_metric: bool = False,
) -> Task:
    """A task from (line or row number, record) pairs: a file's rows, or records given in Python.
    Errors name `where` and the line (file) or row (records). With `scored_by_metric` the targets
    are the metric's business (they may be empty, e.g. for an LLM judge with no reference)."""
    score_fn = make_scorer(scorer)
    stem = where.stem if isinstance(where, Path) else str(where)
    if id_col is None and all("id" in record for _, record in rows):
        id_col = "id"  # rows that all carry ids keep them (and duplicates are refused)
    examples: list[tuple[Example, str | None]] = []
    seen: dict[str, int] = {}
    for index, (line, record) in enumerate(rows):
        at = _at(where, line)
        text = _column(where, line, record, input_col, "input")
        target = _column(where, line, record, target_col, "target")
        if not text:
            raise DataError(f"{at}: empty input in column {input_col!r}")
        if not target and not scored_by_metric:
            raise DataError(f"{at}: empty target in column {target_col!r}")
        problem = None if scored_by_metric else check_target(score_fn, target)
        if problem:
            raise DataError(f"{at}: {problem} (scorer {score_fn.name!r})")
        ex_id = _column(where, line, record, id_col, "id") if id_col else f"{stem}/{index}"
        if ex_id in seen:
            raise DataError(
                f"{at}: duplicate id {ex_id!r} (first used on {_at(where, seen[ex_id]).split(', ')[-1]})"
            )
        seen[ex_id] = line
        split = None
        if split_col:
            raw = _column(where, line, record, split_col, "split").lower()
            split = SPLIT_ALIASES.get(raw)
            if split is None:
                raise DataError(f"{at}: split {raw!r} in column {split_col!r} is not train, val or test")
        meta = {"line": line, **{k: v for k, v in record.items() if k not in (input_col, target_col)}}
        examples.append((Example(ex_id, text, target, meta), split))
    train, val, test = _split(where, examples, split_col, split_sizes, seed)
    return Task(
        name=name,
        train=train,
        val=val,
        test=test,
        scorer=score_fn,
        answer_instruction=instruction_for(score_fn.name)
        if answer_instruction is None
        else answer_instruction,
        initial_prompt=DEFAULT_PROMPT if initial_prompt is None else initial_prompt,
        description=description or f"user task ({len(examples)} examples)",
        source=source or str(where),
        answer_type=_answer_type(score_fn.name),
    )


def _split(
    path: Path | str,
    examples: list[tuple[Example, str | None]],
    split_col: str | None,
    split_sizes: object,
    seed: int,
) -> tuple[list[Example], list[Example], list[Example]]:
    if split_col:
        parts: dict[str, list[Example]] = {"train": [], "val": [], "test": []}
        for example, split in examples:
            parts[str(split)].append(example)
        empty = [name for name in ("train", "test") if not parts[name]]
        if empty:
            raise DataError(f"{path}: no rows with split {empty[0]!r} in column {split_col!r}")
        return parts["train"], parts["val"], parts["test"]
    n = len(examples)
    if n < 3:
        raise DataError(f"{path}: too few examples for a train/val/test split ({n}; need at least 3)")
    sizes = normalize_sizes(split_sizes)
    defaults = _default_sizes(n)
    n_train, n_val, n_test = (
        defaults if sizes is None else tuple(d if s is None else s for s, d in zip(sizes, defaults))
    )
    if sizes is not None and sizes[2] is None:
        n_test = n - n_train - n_val
    if n_train + n_val + n_test > n or n_test < 0:
        raise DataError(
            f"{path}: too few examples for the split: the file has {n}, the split asks for "
            f"{n_train}+{n_val}+{n_test}={n_train + n_val + max(n_test, 0)}"
        )
    order = [examples[i][0] for i in permutation(n, seed)]
    return (
        order[:n_train],
        order[n_train : n_train + n_val],
        order[n_train + n_val : n_train + n_val + n_test],
    )
