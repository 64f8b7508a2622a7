"""`dlpo tasks`: the listing and the one-task view."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlpo.cli.app import main
from dlpo.tasks import datadir


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def test_lists_every_task_with_sizes(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    for name in (
        "demo",
        "gsm8k:textgrad",
        "biggsm",
        "mgsm:zh",
        "bbh:word_sorting",
        "bbh:dyck_languages",
        "math500",
    ):
        assert any(line.split()[0] == name for line in out.splitlines()), name
    rows = out.splitlines()[1:]  # piped: a header line, then one line per task
    assert len(rows) == 46 and not any("data not found" in row for row in rows)
    assert "reference:mgsm" in out
    gsm_row = next(line for line in out.splitlines() if line.startswith("gsm8k "))
    assert all(n in gsm_row.split() for n in ("50", "100", "400", "numeric", "found"))


def test_missing_data_is_listed_not_fatal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(datadir.ENV_VAR, raising=False)
    monkeypatch.setattr(datadir, "hub_installed", lambda: False)
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    demo_row = next(line for line in out.splitlines() if line.startswith("demo "))
    gsm_row = next(line for line in out.splitlines() if line.startswith("gsm8k "))
    assert "built in" in demo_row and "data not found" in gsm_row


def test_show_one_task(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "bbh:navigate", "--data-dir", str(data_dir), "--examples", "1"]) == 0
    out = capsys.readouterr().out
    assert "sizes: train 50, val 50, test 150" in out
    assert "scorer: label" in out and "[bbh/navigate/" in out


def test_show_unknown_task_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "gsm9k"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean 'gsm8k'?" in err and len(err.strip().splitlines()) == 1


def test_show_task_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("question,answer\n" + "".join(f"q{i},{i}\n" for i in range(10)), encoding="utf-8")
    code = main(
        [
            "tasks",
            "--task-file",
            str(path),
            "--input-col",
            "question",
            "--target-col",
            "answer",
            "--scorer",
            "numeric",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "sizes: train 3, val 2, test 5" in out and "scorer: numeric" in out
