"""Config files (YAML/TOML/JSON): same power as the flags, one-line errors naming the key, flags win."""

from __future__ import annotations

import json

import pytest

from dlpo.cli.app import main
from dlpo.cli.optimize import QUICK_DEMO
from dlpo.config_file import allowed_keys, merge_with_flags, read_config_file
from dlpo.errors import ConfigError
from dlpo.train import TrainConfig

NO_FLAGS: dict = {}


def build(path, flags=NO_FLAGS, recipe_flags=None):
    return TrainConfig.build(**merge_with_flags(dict(flags), read_config_file(path), str(path), recipe_flags))


def test_yaml_sets_every_kind_of_key(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(
        "task: demo\npreset: tgd\ntechniques: [tsa, tcl]\nrecipe: {t0: 16, momentum_k: 2}\nsteps: 5\n"
        "batch_size: 4\nseed: 3\nacceptance_set: 7\ntrain_limit: 20\neval_every: 2\ncritique_max_tokens: 99\n"
        "forward_max_tokens: 77\nbudget: {max_calls: 40, max_usd: 1.5}\nforward: local:qwen2.5-0.5b\n"
    )
    c = build(f)
    assert c.recipe.techniques == ["tsa", "tcl"] and c.recipe.t0 == 16 and c.recipe.momentum_k == 2
    assert (c.steps, c.batch_size, c.seed, c.acceptance_set, c.train_limit, c.eval_every) == (
        5,
        4,
        3,
        7,
        20,
        2,
    )
    assert (c.critique_max_tokens, c.forward_max_tokens) == (99, 77)
    assert (
        c.budget.max_calls == 40 and c.budget.max_usd == 1.5 and c.val_limit == QUICK_DEMO["val_limit"]
    )  # quick demo default


def test_flags_override_the_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text(
        'task = "demo"\npreset = "dlpo"\nsteps = 5\nbatch_size = 4\n[recipe]\nlr = 3\nt0 = 16.0\n[budget]\nmax_calls = 40\n'
    )
    c = build(f, {"steps": 2, "lr": 2, "budget_calls": 9}, {"t0": 8.0})
    assert (c.steps, c.batch_size, c.recipe.lr, c.recipe.t0, c.budget.max_calls) == (2, 4, 2, 8.0, 9)
    assert c.recipe.name == "dlpo"
    c = build(f, {"preset": "tsa"})
    assert c.recipe.techniques == ["tsa"] and c.recipe.lr == 3  # the file's hyper-parameters stay


def test_a_runs_config_json_is_a_config_file(tmp_path):
    original = TrainConfig.build(task="demo", steps=3, batch_size=2, seed=5, val_limit=4)
    f = tmp_path / "config.json"
    f.write_text(json.dumps(original.to_json()))
    assert build(f) == original


@pytest.mark.parametrize(
    "text,suffix,message",
    [
        (
            "batch_size: -1\n",
            ".yaml",
            "c.yaml:1: batch_size: Input should be greater than or equal to 1 (got -1)",
        ),
        (
            "task: demo\nbatchsize: 3\n",
            ".yaml",
            "c.yaml:2: unknown key 'batchsize'; allowed keys: acceptance_set, ",
        ),
        (
            "budget: {max_calls: 5, max_dollars: 2}\n",
            ".yaml",
            "unknown key 'budget.max_dollars'; allowed keys: max_calls, max_tokens, max_usd",
        ),
        ("steps: [1\n", ".yaml", "c.yaml:2: not valid YAML"),
        ("steps = \n", ".toml", "c.toml: not valid TOML"),
        ("- a\n- b\n", ".yaml", "expected a mapping"),
        ("steps: 1\n", ".ini", "unknown config file type '.ini'; allowed: .yaml, .yml, .toml, .json"),
        ("recipe: {lr: 3, momentum: 2}\n", ".yaml", "recipe: unknown recipe option(s) ['momentum']"),
        ("preset: adam\n", ".yaml", "unknown preset 'adam'; allowed: tgd, dlpo"),
        ("acceptance_set: everything\n", ".yaml", "acceptance_set"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path, text, suffix, message):
    f = tmp_path / f"c{suffix}"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        build(f)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cli_config_errors_exit_2_and_make_no_run(tmp_path, capsys):
    f = tmp_path / "c.yaml"
    f.write_text("task: demo\nbatch_size: 0\n")
    assert main(["optimize", "--config", str(f), "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "batch_size" in err and "c.yaml" in err and len(err.splitlines()) == 1
    f.write_text("tsk: demo\n")
    assert main(["optimize", "--config", str(f)]) == 2
    assert "unknown key 'tsk'" in capsys.readouterr().err
    assert main(["optimize", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_cli_run_from_a_config_file_saves_the_resolved_config(tmp_path, capsys, scripted_engines):
    f = tmp_path / "c.yaml"
    run = tmp_path / "run"
    f.write_text(f"task: demo\npreset: tsa\nsteps: 3\nbatch_size: 2\nrecipe: {{t0: 4}}\nrun_dir: {run}\n")
    assert main(["optimize", "--config", str(f), "--steps", "1"]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["steps"] == 1 and saved["batch_size"] == 2 and saved["recipe"]["t0"] == 4.0
    assert saved["recipe"]["techniques"] == ["tsa"]
    assert "run_dir" not in saved
    assert json.loads((run / "result.json").read_text())["steps"] == 1


def test_allowed_keys_cover_train_config_and_conveniences():
    keys = allowed_keys()
    assert set(TrainConfig.model_fields) <= set(keys)
    assert {"preset", "techniques", "task_file", "run_dir", "mlflow"} <= set(keys)
