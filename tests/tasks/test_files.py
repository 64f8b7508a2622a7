"""User task files: column mapping, scorers, splits, and one clear error per malformed file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlpo.errors import ConfigError, DataError
from dlpo.tasks.files import load_task_file
from dlpo.tasks.registry import load_task


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def rows(n: int, **extra) -> list[dict]:
    return [{"q": f"What is {i} + 1?", "a": str(i + 1), **extra} for i in range(n)]


def test_jsonl_with_column_mapping_and_seeded_split(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "add.jsonl", rows(20))
    task = load_task_file(
        path, input_col="q", target_col="a", scorer="numeric", split_sizes=(5, 5, 10), seed=1
    )
    assert (len(task.train), len(task.val), len(task.test)) == (5, 5, 10)
    assert (
        task.name == "add" and task.scorer_name == "numeric" and "Answer: <number>" in task.answer_instruction
    )
    again = load_task_file(
        path, input_col="q", target_col="a", scorer="numeric", split_sizes=(5, 5, 10), seed=1
    )
    other = load_task_file(
        path, input_col="q", target_col="a", scorer="numeric", split_sizes=(5, 5, 10), seed=2
    )
    assert [e.id for e in task.train] == [e.id for e in again.train] != [e.id for e in other.train]
    assert len({e.id for e in task.train + task.val + task.test}) == 20
    example = task.train[0]
    assert task.score(f"Answer: {example.target}", example).correct


def test_default_split_is_30_20_50(tmp_path: Path) -> None:
    task = load_task_file(write_jsonl(tmp_path / "t.jsonl", rows(10)), input_col="q", target_col="a")
    assert (len(task.train), len(task.val), len(task.test)) == (3, 2, 5)


def test_csv_with_split_column_and_ids(tmp_path: Path) -> None:
    path = tmp_path / "sent.csv"
    path.write_text(
        "id,text,label,part\n"
        "a,I loved it,yes,train\n"
        'b,"Bad, truly bad",no,train\n'
        "c,Fine,yes,dev\n"
        "d,Awful,no,test\n",
        encoding="utf-8",
    )
    task = load_task_file(
        path,
        input_col="text",
        target_col="label",
        id_col="id",
        split_col="part",
        scorer="label",
        answer_instruction="Answer with yes or no.",
    )
    assert [e.id for e in task.train] == ["a", "b"] and [e.id for e in task.val] == ["c"]
    assert task.train[1].input == "Bad, truly bad"
    assert task.answer_instruction == "Answer with yes or no."
    assert task.score("Answer: no", task.test[0]).correct


def test_load_task_accepts_a_file_path(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl", [{"input": f"say {i}", "target": f"w{i}"} for i in range(6)])
    task = load_task(str(path), scorer="exact-nocase", split_sizes=(2, 2, 2))
    assert task.scorer_name == "exact-nocase" and len(task.test) == 2
    assert load_task(f"file:{path}").scorer_name == "exact"


def test_tsv(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("input\ttarget\n" + "".join(f"q{i}\t{i}\n" for i in range(5)), encoding="utf-8")
    assert len(load_task_file(path, split_sizes=(1, 1, 3)).test) == 3


MALFORMED = [
    # (file name, content bytes, kwargs, message pattern)
    (
        "m.jsonl",
        b'{"input": "a", "target": "1"}\n{"input": "b"}\n',
        {},
        r"m\.jsonl, line 2: no target column 'target' \(columns found: 'input'\)",
    ),
    (
        "m.csv",
        b"question,answer\nq,1\n",
        {},
        r"m\.csv, line 2: no input column 'input' \(columns found: 'question', 'answer'\); choose it with --input-col",
    ),
    (
        "m.jsonl",
        b'{"input": "a", "target": "1"}\n{"input": "b", "target": "  "}\n',
        {},
        r"line 2: empty target in column 'target'",
    ),
    ("m.jsonl", b'{"input": "", "target": "1"}\n', {}, r"line 1: empty input"),
    (
        "m.csv",
        b"input,target\nq1,1\ncaf\xe9,2\n",
        {},
        r"m\.csv, line 3: not valid UTF-8 \(byte 0xe9\); save the file as UTF-8",
    ),
    (
        "m.jsonl",
        b'{"input": "a", "target": "1"}\n{"input": "b", "target": 2,}\n',
        {},
        r"line 2: not valid JSON",
    ),
    ("m.jsonl", b'["a", "1"]\n', {}, r"line 1: expected a JSON object, got list"),
    (
        "m.jsonl",
        b'{"id": "x", "input": "a", "target": "1"}\n{"id": "y", "input": "b", "target": "1"}\n{"id": "x", "input": "c", "target": "1"}\n',
        {"id_col": "id"},
        r"line 3: duplicate id 'x' \(first used on line 1\)",
    ),
    (
        "m.jsonl",
        b'{"input": "a", "target": "1"}\n{"input": "b", "target": "2"}\n',
        {},
        r"too few examples for a train/val/test split \(2; need at least 3\)",
    ),
    (
        "m.jsonl",
        b"".join(b'{"input": "q%d", "target": "1"}\n' % i for i in range(5)),
        {"split_sizes": (3, 2, 2)},
        r"too few examples for the split: the file has 5, the split asks for 3\+2\+2=7",
    ),
    ("m.jsonl", b"\n\n", {}, r"m\.jsonl: no examples in the file"),
    ("m.csv", b"", {}, r"m\.csv: the file is empty \(expected a header line\)"),
    ("m.csv", b"input,target\nq,1,extra\n", {}, r"line 2: more fields than the header has columns"),
    (
        "m.jsonl",
        b'{"input": "a", "target": "seven"}\n',
        {"scorer": "numeric"},
        r"line 1: target 'seven' is not a number \(scorer 'numeric'\)",
    ),
    (
        "m.jsonl",
        b'{"input": "a", "target": "maybe"}\n',
        {"scorer": "label"},
        r"line 1: target 'maybe' is not a label",
    ),
    (
        "m.jsonl",
        b'{"input": "a", "target": "1", "s": "train"}\n{"input": "b", "target": "1", "s": "holdout"}\n',
        {"split_col": "s"},
        r"line 2: split 'holdout' in column 's' is not train, val or test",
    ),
    (
        "m.jsonl",
        b'{"input": "a", "target": "1", "s": "train"}\n{"input": "b", "target": "1", "s": "val"}\n',
        {"split_col": "s"},
        r"no rows with split 'test' in column 's'",
    ),
    (
        "m.jsonl",
        b'{"input": {"nested": 1}, "target": "1"}\n',
        {},
        r"line 1: column 'input' must be text or a number",
    ),
    ("m.xlsx", b"whatever", {}, r"unsupported task file type '\.xlsx'; use one of \.jsonl"),
]


@pytest.mark.parametrize(("name", "content", "kwargs", "pattern"), MALFORMED)
def test_malformed_files_give_one_clear_error(
    tmp_path: Path, name: str, content: bytes, kwargs: dict, pattern: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=pattern) as info:
        load_task_file(path, **kwargs)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.jsonl: task file not found"):
        load_task_file(tmp_path / "nope.jsonl")


def test_bad_scorer_and_bad_split_sizes(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", rows(5))
    with pytest.raises(ConfigError, match="unknown scorer 'fuzzy'"):
        load_task_file(path, input_col="q", target_col="a", scorer="fuzzy")
    with pytest.raises(ConfigError, match="split_sizes: train must be a non-negative integer"):
        load_task_file(path, input_col="q", target_col="a", split_sizes=(-1, 1, 1))


def test_cli_prints_one_line_for_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dlpo.cli.app import main

    path = tmp_path / "bad.jsonl"
    path.write_text('{"input": "a"}\n', encoding="utf-8")
    assert main(["tasks", "--task-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl, line 1: no target column 'target'" in err and "Traceback" not in err
