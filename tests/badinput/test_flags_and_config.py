"""Bad command-line flags and config files: exit 2, one line naming what and where, no run folder."""

from __future__ import annotations

import pytest

from .checks import assert_input_error


@pytest.fixture
def run(tmp_path):
    return tmp_path / "r"


def check(cli, run, argv, *needles):
    outcome = cli("optimize", *argv, "--run-dir", run)
    assert_input_error(outcome, *needles)
    assert not run.exists(), "a refused run must not leave a folder a later --resume would read"


def test_unknown_task(cli, run):
    check(cli, run, ["--task", "no-such-task"], "unknown task 'no-such-task'")


def test_unknown_preset(cli, run):
    check(cli, run, ["--preset", "adamw"], "unknown preset 'adamw'")


def test_unknown_technique(cli, run):
    check(cli, run, ["--techniques", "tsa,warp"], "unknown technique", "warp")


def test_dropout_out_of_range(cli, run):
    check(cli, run, ["--dropout", "1.5"], "dropout", "1.5")


def test_learning_rate_zero(cli, run):
    check(cli, run, ["--lr", "0"], "lr", "greater than or equal to 1")


def test_zero_steps(cli, run):
    check(cli, run, ["--steps", "0"], "steps", "greater than or equal to 1")


def test_zero_budget(cli, run):
    check(cli, run, ["--budget-calls", "0"], "budget.max_calls")


def test_bad_acceptance_set(cli, run):
    check(cli, run, ["--acceptance-set", "0"], "acceptance_set")


def test_unknown_acceptance_rule(cli, run):
    check(cli, run, ["--acceptance", "sometimes"], "acceptance", "'always', 'greedy' or 'annealing'")


def test_negative_temperature(cli, run):
    check(cli, run, ["--t0", "-1"], "t0", "greater than 0")


def test_non_integer_flag_value(cli, run):
    check(cli, run, ["--steps", "many"], "--steps", "dlpo optimize")


def test_unknown_option(cli, run):
    check(cli, run, ["--stepz", "3"], "No such option: --stepz", "dlpo optimize --help")


def test_unknown_command(cli):
    assert_input_error(cli("optimise"), "No such command 'optimise'")


def test_task_and_task_file_together(cli, run, tmp_path):
    check(cli, run, ["--task", "demo", "--task-file", tmp_path / "x.jsonl"], "--task", "--task-file")


def test_bad_engine_kind(cli, run):
    check(
        cli,
        run,
        ["--forward", "anthropic:claude"],
        "bad engine spec 'anthropic:claude'",
        "unknown engine kind",
    )


def test_unknown_local_model(cli, run):
    check(cli, run, ["--backward", "local:llama-70b"], "unknown local model 'llama-70b'", "qwen2.5-0.5b")


def test_base_url_without_scheme(cli, run):
    check(cli, run, ["--forward", "openai:m@ftp://host/v1"], "bad engine spec", "http://")


def test_invalid_yaml(cli, run, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps: 2\nbatch_size: [1\n")
    check(cli, run, ["--config", cfg], "c.yaml:", "not valid YAML")


def test_unknown_config_key(cli, run, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps: 2\nstepz: 3\n")
    check(cli, run, ["--config", cfg], "c.yaml:2", "unknown key 'stepz'", "allowed keys")


def test_config_file_not_utf8(cli, run, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes(b"steps: 2\npreset: \xff\xfe\n")
    check(cli, run, ["--config", cfg], "c.yaml", "not valid UTF-8")


def test_missing_config_file(cli, run, tmp_path):
    check(cli, run, ["--config", tmp_path / "nope.yaml"], "nope.yaml", "does not exist")


def test_config_value_out_of_range(cli, run, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("batch_size = -3\n")
    check(cli, run, ["--config", cfg], "c.toml", "batch_size")
