"""Bad task files given with --task-file: exit 2, one line naming the file (and line), no run folder."""

from __future__ import annotations

import json

from .checks import assert_input_error


def check(cli, tmp_path, path, *needles, extra=()):
    run = tmp_path / "r"
    outcome = cli("optimize", "--task-file", path, *extra, "--run-dir", run)
    assert_input_error(outcome, str(path.name), *needles)
    assert not run.exists()


def rows(n=6, **fields):
    return "".join(json.dumps({"input": f"q{i}", "target": str(i), **fields}) + "\n" for i in range(n))


def test_empty_file(cli, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    check(cli, tmp_path, path, "no examples")


def test_not_utf8(cli, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("input,target\ncaf\xe9,1\n".encode("latin-1"))
    check(cli, tmp_path, path, "not valid UTF-8")


def test_missing_column(cli, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(rows().replace('"input"', '"question"'))
    check(cli, tmp_path, path, "line 1", "no input column 'input'", "question")


def test_missing_named_column(cli, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(rows())
    check(cli, tmp_path, path, "no target column 'answer'", extra=("--target-col", "answer"))


def test_duplicate_ids(cli, tmp_path):
    path = tmp_path / "dup.jsonl"
    lines = [json.dumps({"id": f"x{i % 4}", "input": f"q{i}", "target": str(i)}) for i in range(6)]
    path.write_text("\n".join(lines) + "\n")
    check(cli, tmp_path, path, "line 5", "duplicate id 'x0'", "line 1")


def test_malformed_json_line(cli, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(rows(3) + '{"input": "q", "target": \n' + rows(3))
    check(cli, tmp_path, path, "line 4", "not valid JSON")


def test_missing_task_file(cli, tmp_path):
    check(cli, tmp_path, tmp_path / "absent.jsonl", "not found")


def test_unsupported_file_type(cli, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("what is 2+2? 4\n")
    check(cli, tmp_path, path, "unsupported task file type '.txt'", ".jsonl")


def test_too_few_examples(cli, tmp_path):
    path = tmp_path / "two.jsonl"
    path.write_text(rows(2))
    check(cli, tmp_path, path, "too few examples")
