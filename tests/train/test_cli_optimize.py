"""`dlpo optimize`: flags -> config, errors as one line with exit 2, and a whole run on the demo task
with the engines replaced by scripted ones (the real-model run is in test_fit_model.py)."""

from __future__ import annotations

import json

import pytest

from dlpo.cli.app import main
from dlpo.cli.optimize import QUICK_DEMO, config_values
from dlpo.errors import ConfigError
from dlpo.train import TrainConfig


def test_no_flags_is_the_main_job_on_tickets():
    from dlpo.run_values import QUICK_RUNS

    config = TrainConfig.build(**config_values({}))
    quick = QUICK_RUNS["tickets"]
    assert config.task == "tickets" and config.recipe.name == "dlpo"
    assert config.forward == "local:qwen2.5-0.5b" and config.backward == "local:qwen2.5-1.5b"
    assert (
        config.steps == quick["steps"] and config.batch_size == 3 and config.test_limit == quick["test_limit"]
    )
    assert config.acceptance_set == quick["acceptance_set"] and config.val_limit == quick["val_limit"]


def test_the_demo_task_keeps_its_quick_sizes():
    config = TrainConfig.build(**config_values({"task": "demo"}))
    assert config.steps == QUICK_DEMO["steps"] and config.val_limit == QUICK_DEMO["val_limit"]


def test_flags_map_to_config(tmp_path):
    f = tmp_path / "t.jsonl"
    values = config_values(
        {
            "task_file": f,
            "input_col": "q",
            "preset": "tgd",
            "techniques": "tsa,tcl",
            "lr": 2,
            "steps": 7,
            "acceptance_set": "5",
            "budget_calls": 50,
            "max_tokens": 64,
        }
    )
    config = TrainConfig.build(**values)
    assert config.task == f"file:{f.resolve()}" and config.task_options == {
        "input_col": "q",
        "target_col": "target",
    }
    assert config.recipe.techniques == ["tsa", "tcl"] and config.recipe.lr == 2
    assert (config.steps, config.acceptance_set, config.budget.max_calls, config.forward_max_tokens) == (
        7,
        5,
        50,
        64,
    )
    assert config.val_limit is None  # quick sizes only for the demo task
    assert config_values({"epochs": 2})["epochs"] == 2 and "steps" not in config_values({"epochs": 2})
    with pytest.raises(ConfigError, match="--task or --task-file"):
        config_values({"task": "demo", "task_file": f})
    with pytest.raises(ConfigError, match="unknown preset"):
        config_values({"preset": "adam"})


@pytest.mark.parametrize(
    "argv,message",
    [
        (["optimize", "--preset", "adam"], "unknown preset 'adam'"),
        (["optimize", "--batch-size", "0"], "batch_size"),
        (["optimize", "--forward", "gpt"], "bad engine spec"),
        (["optimize", "--techniques", "tsa,xyz"], "unknown technique"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, message, capsys, tmp_path):
    assert main([*argv, "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_resume_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["optimize", "--resume", str(tmp_path)]) == 2
    assert "is not a dlpo run directory (no config.json)" in capsys.readouterr().err


def test_cli_run_resume_and_budget(tmp_path, capsys, scripted_engines):
    run = tmp_path / "run"
    assert main(["optimize", "--steps", "2", "--run-dir", str(run)]) == 0
    out = capsys.readouterr().out
    assert "best prompt" in out and "start" in out and "last" in out
    saved = json.loads((run / "result.json").read_text())
    assert saved["steps"] == 2 and saved["stopped"] is None
    # resuming a finished run does nothing and reports the same result
    events = (run / "events.jsonl").read_text()
    assert main(["optimize", "--resume", str(run)]) == 0
    assert json.loads((run / "result.json").read_text()) == saved
    assert (run / "events.jsonl").read_text() == events
    assert "best prompt" in capsys.readouterr().out
    # a different flag on resume is refused, naming the key
    assert main(["optimize", "--resume", str(run), "--seed", "3"]) == 2
    assert "seed" in capsys.readouterr().err
    # a call budget stops cleanly with exit 1 and says how to continue
    assert main(["optimize", "--steps", "2", "--budget-calls", "5", "--run-dir", str(tmp_path / "b")]) == 1
    assert "--resume" in capsys.readouterr().err
    assert json.loads((tmp_path / "b" / "result.json").read_text())["stopped"] == "budget"
    assert main(["optimize", "--resume", str(tmp_path / "b"), "--budget-calls", "100000"]) == 0


def test_unknown_task_leaves_no_run_folder(tmp_path, capsys):
    assert main(["optimize", "--task", "no-such-task", "--run-dir", str(tmp_path / "r")]) == 2
    assert "no-such-task" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
