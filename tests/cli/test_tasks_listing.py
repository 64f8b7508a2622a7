"""`dlpo tasks` in a pipe: one line per task with its full name, so grep finds every task."""

from __future__ import annotations

from dlpo.cli.app import main
from dlpo.tasks.registry import list_tasks


def test_piped_listing_never_truncates_a_task_name(capsys):
    assert main(["tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = {line.split()[0] for line in lines[1:] if line.strip()}
    expected = {info.name for info in list_tasks(None)}
    assert "bbh:object_counting" in expected and "tickets" in expected
    assert expected <= names, sorted(expected - names)
    assert not any("…" in line for line in lines)
