"""MLflow logging to a temporary local store, read back through MLflow's own client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlpo.report import load_run

from .runs import scripted_run

mlflow = pytest.importorskip("mlflow")


def test_log_run_reads_back(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    from dlpo.tracking.mlflow import log_run

    run = scripted_run(tmp_path / "run")
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    (tmp_path / "store").mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)  # the default store when no uri is given
    run_id = log_run(run, experiment="dlpo-test")
    client = MlflowClient(tracking_uri=uri)
    logged = client.get_run(run_id)
    config = json.loads((run / "config.json").read_text())
    result = json.loads((run / "result.json").read_text())
    data = load_run(run)
    assert logged.info.status == "FINISHED" and logged.info.run_name == run.name
    assert client.get_experiment(logged.info.experiment_id).name == "dlpo-test"
    params = logged.data.params
    assert params["recipe.name"] == "dlpo" and params["recipe.techniques"] == ",".join(
        config["recipe"]["techniques"]
    )
    assert params["batch_size"] == str(config["batch_size"]) and params["task"] == "sums"
    val = client.get_metric_history(run_id, "val")
    assert [(m.step, m.value) for m in sorted(val, key=lambda m: m.step)] == [(0, data.start_val)] + [
        (s.step, s.val) for s in data.steps
    ]
    lr = sorted(client.get_metric_history(run_id, "lr"), key=lambda m: m.step)
    assert [m.value for m in lr] == [float(s.lr) for s in data.steps]
    assert logged.data.metrics["test_best"] == result["best"]["test"]
    paths = {a.path for a in client.list_artifacts(run_id, "prompts")}
    assert {"prompts/start.txt", "prompts/best.txt", "prompts/last.txt", "prompts/steps.jsonl"} <= paths
    best = client.download_artifacts(run_id, "prompts/best.txt", str(tmp_path / "dl"))
    assert Path(best).read_text().strip() == result["best"]["prompt"]
    report = client.download_artifacts(run_id, "report/report.html", str(tmp_path / "dl"))
    assert "<h2>Prompt evolution</h2>" in Path(report).read_text()


def test_cli_report_with_mlflow(tmp_path, monkeypatch, capsys):
    from mlflow.tracking import MlflowClient

    from dlpo.cli.app import main

    run = scripted_run(tmp_path / "run", steps=2)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["report", str(run), "--mlflow"]) == 0
    assert "mlflow run" in capsys.readouterr().out
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")  # the default store
    runs = client.search_runs([client.get_experiment_by_name("dlpo").experiment_id])
    assert [r.info.run_name for r in runs] == ["run"]
    assert (tmp_path / "mlruns" / "artifacts").is_dir()
