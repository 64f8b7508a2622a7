"""Happy paths and bad input of dlpo evaluate / report / compare (scripted engines, exit codes)."""

from __future__ import annotations

import json

import pytest
from report.runs import scripted_run

from dlpo.cli.app import main


@pytest.fixture
def run(tmp_path):
    return scripted_run(tmp_path / "run", steps=2)


def test_report_and_compare(tmp_path, run, capsys):
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").is_file() and (run / "summary.md").is_file()
    assert str(run / "report.html") in capsys.readouterr().out
    other = scripted_run(tmp_path / "other", steps=1, seed=4)
    assert main(["report", str(run), str(other), "--out", str(tmp_path / "reports")]) == 0
    assert (tmp_path / "reports" / "run" / "report.html").is_file()
    assert (tmp_path / "reports" / "other" / "summary.md").is_file()
    assert main(["compare", str(run), str(other), "--out", str(tmp_path / "cmp")]) == 0
    md = (tmp_path / "cmp" / "summary.md").read_text()
    assert "| run | sums |" in md and "| other | sums |" in md


@pytest.mark.parametrize("command", ["report", "compare"])
def test_missing_run_dir_is_exit_2(tmp_path, capsys, command):
    assert main([command, str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert "nope" in err and len(err.splitlines()) == 1
    (tmp_path / "empty").mkdir()
    assert main([command, str(tmp_path / "empty")]) == 2
    assert "not a dlpo run directory" in capsys.readouterr().err


def test_evaluate_a_runs_prompt_and_a_given_prompt(tmp_path, run, capsys, scripted_engines):
    # the scripted run's task is not a registered task, so give the demo task explicitly
    out = tmp_path / "answers.jsonl"
    assert (
        main(
            [
                "evaluate",
                "--run",
                str(run),
                "--which",
                "best",
                "--task",
                "demo",
                "--split",
                "val",
                "--limit",
                "4",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    best = json.loads((run / "result.json").read_text())["best"]
    assert f"best prompt of {run} (step {best['step']})" in text
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4 and all(r["output"] == "Answer: 7" for r in rows)
    mean = sum(r["score"] for r in rows) / 4
    assert f"accuracy {mean:.3f}" in text and "model calls 4" in text
    assert main(["evaluate", "--task", "demo", "--prompt", "Be exact.", "--limit", "2"]) == 0
    assert "prompt: --prompt" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args,message",
    [
        (["--task", "no-such-task"], "unknown task 'no-such-task'"),
        (["--task", "demo", "--forward", "gpt"], "bad engine spec 'gpt'"),
        (["--task", "demo", "--split", "dev"], "unknown split 'dev'; allowed: train, val, test"),
        (["--task", "demo", "--limit", "-1"], "--limit: must be a positive number"),
        (["--task", "demo", "--prompt", "x", "--prompt-file", "p.txt"], "give one prompt source"),
        (["--prompt", "x"], "say what to evaluate on"),
        (["--run", "/no/such/run"], "is not a dlpo run directory"),
        (["--task", "demo", "--prompt-file", "/no/p.txt"], "does not exist"),
    ],
)
def test_evaluate_bad_input(args, message, capsys):
    assert main(["evaluate", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("command", ["optimize", "evaluate", "report", "compare", "tasks", "models"])
def test_every_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: dlpo " + command in out
    if command in ("optimize", "evaluate", "report", "compare"):
        assert "Examples" in out and f"dlpo {command} " in out


def test_optimize_help_names_the_task_it_runs_by_default(capsys):
    from dlpo.run_values import DEFAULT_TASK

    assert main(["optimize", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps the help text
    assert f"Default: {DEFAULT_TASK}." in out and f"default: the {DEFAULT_TASK} task" in out
    assert "demo" not in out.replace("dlpo optimize", "")


def test_optimize_negative_batch_size(tmp_path, capsys):
    assert main(["optimize", "--batch-size", "-2", "--run-dir", str(tmp_path / "r")]) == 2
    assert "batch_size" in capsys.readouterr().err and not (tmp_path / "r").exists()
