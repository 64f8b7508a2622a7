"""Bad run folders and resumes: exit 2, one line naming the folder (and file or key), and the
run left exactly as it was."""

from __future__ import annotations

import json

import pytest

from .checks import assert_input_error


@pytest.fixture
def finished_run(cli, tmp_path, scripted_engines):
    run = tmp_path / "run"
    outcome = cli("optimize", "--steps", "1", "--batch-size", "2", "--run-dir", run)
    assert outcome.code == 0, outcome.err
    return run


def snapshot(run):
    return {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.suffix != ".sqlite"}


def test_resume_a_folder_that_is_not_a_run(cli, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    assert_input_error(cli("optimize", "--resume", folder), str(folder), "not a dlpo run directory")


def test_run_dir_that_is_a_non_empty_folder(cli, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    assert_input_error(cli("optimize", "--run-dir", folder), str(folder), "not an empty folder")
    assert [p.name for p in folder.iterdir()] == ["a.txt"]


def test_run_dir_that_already_holds_a_run(cli, finished_run):
    before = snapshot(finished_run)
    outcome = cli("optimize", "--run-dir", finished_run)
    assert_input_error(outcome, str(finished_run), "already holds a dlpo run", "--resume")
    assert snapshot(finished_run) == before


def test_resume_with_a_changed_config(cli, finished_run):
    before = snapshot(finished_run)
    outcome = cli("optimize", "--resume", finished_run, "--seed", "3", "--batch-size", "4")
    assert_input_error(outcome, f"cannot resume {finished_run}", "batch_size", "seed")
    assert snapshot(finished_run) == before


def test_resume_with_a_config_file(cli, finished_run, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps: 1\n")
    assert_input_error(cli("optimize", "--resume", finished_run, "--config", cfg), "--resume", "--config")


def test_resume_with_a_corrupt_checkpoint(cli, finished_run):
    (finished_run / "checkpoint.json").write_text('{"step": 1,')
    outcome = cli("optimize", "--resume", finished_run)
    assert_input_error(outcome, "checkpoint.json", "not valid JSON")


def test_resume_with_a_truncated_event_log(cli, finished_run):
    (finished_run / "events.jsonl").write_text("")
    outcome = cli("optimize", "--resume", finished_run)
    assert_input_error(outcome, "events.jsonl", "the checkpoint counts", "holds only 0")


def test_resume_with_an_edited_config_json(cli, finished_run):
    path = finished_run / "config.json"
    config = json.loads(path.read_text())
    config["batch_size"] = 0
    path.write_text(json.dumps(config))
    assert_input_error(cli("optimize", "--resume", finished_run), str(path), "batch_size")


def test_report_of_a_folder_that_is_not_a_run(cli, tmp_path):
    assert_input_error(cli("report", tmp_path), str(tmp_path), "not a dlpo run directory")
