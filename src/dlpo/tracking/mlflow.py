"""Log a dlpo run to MLflow: params (recipe and config), per-step metrics, prompts and the report.

    run_id = log_run("runs/demo-dlpo-...")     # ./mlruns (local files), or $MLFLOW_TRACKING_URI

Everything is read back from the run directory (config.json, events.jsonl, result.json), so a
finished, stopped or old run can be logged after the fact, and the training loop does not depend on
MLflow. The MLflow client is used directly (no fluent global "active run"). `mlflow` is imported
lazily: install the `mlflow` extra.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError
from dlpo.report.load import RunData, load_run
from dlpo.report.secrets import scrub

DEFAULT_EXPERIMENT = "dlpo"
MAX_PARAM_CHARS = 500  # MLflow's hard limit is 6000; long values are truncated with a marker


def tracking_uri(uri: str | None = None, root: str | Path = "mlruns") -> str:
    """`uri`, else $MLFLOW_TRACKING_URI, else a local store in `./mlruns`: an SQLite file
    `mlruns/mlflow.db` with artifacts under `mlruns/artifacts` (MLflow 3 refuses its plain
    file-system store unless MLFLOW_ALLOW_FILE_STORE=true)."""
    if uri or os.environ.get("MLFLOW_TRACKING_URI"):
        return uri or os.environ["MLFLOW_TRACKING_URI"]
    folder = Path(root).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


def _artifact_location(uri: str) -> str | None:
    """For a local SQLite store: `<its folder>/artifacts` (else MLflow's default, ./mlartifacts)."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").as_uri()
    return None


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> {"recipe.lr": "4", ...}; lists joined with commas; None as 'None'."""
    out: dict[str, str] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
            continue
        text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        out[name] = text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 3] + "..."
    return out


def step_metrics(run: RunData) -> Iterator[tuple[str, float, int]]:
    """(key, value, step) for every per-step figure of the run, then the final test scores."""
    if run.start_val is not None:
        yield "val", run.start_val, 0
    yield "prompt_words", float(len(run.start_prompt.split())), 0
    for r in run.steps:
        values = {
            "val": r.val,
            "batch_score": r.batch_score,
            "lr": r.lr,
            "temperature": r.temperature,
            "delta": r.delta,
            "acceptance_score_before": r.score_before,
            "acceptance_score_candidate": r.score_candidate,
            "accepted": None if r.accepted is None else float(bool(r.accepted) and not r.failed),
            "failed": float(r.failed),
            "prompt_words": r.prompt_words,
            "sentence_edits": r.edits.get("total") if r.edits else None,
            "edit_budget": r.edits_budget,
        }
        for key, value in values.items():
            if value is not None:
                yield key, float(value), r.step
    for step, usage in run.usage_by_step:
        total = usage.get("total", {})
        yield "calls", float(total.get("calls", 0)), step
        yield "cache_hits", float(total.get("cache_hits", 0)), step
        yield "tokens", float(total.get("prompt_tokens", 0) + total.get("completion_tokens", 0)), step
        yield "usd", float(total.get("usd", 0.0)), step
    final_step = run.steps[-1].step if run.steps else 0
    for which in ("start", "best", "last"):
        score = (run.result or {}).get(which, {}).get("test")
        if score is None and which in run.tests:
            score = run.tests[which]["score"]
        if score is not None:
            yield f"test_{which}", float(score), final_step


def log_run(
    run_dir: str | Path,
    *,
    uri: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
    report: bool = True,
) -> str:
    """Log the run in `run_dir` as one MLflow run; returns its MLflow run id."""
    try:
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ConfigError("--mlflow needs the mlflow extra: pip install 'dlpo[mlflow]'") from None
    from mlflow.exceptions import MlflowException

    run = load_run(run_dir)
    uri = tracking_uri(uri)
    try:
        client = MlflowClient(tracking_uri=uri)
        found = client.get_experiment_by_name(experiment)
    except MlflowException as exc:
        raise ConfigError(f"MLflow tracking store {uri}: {exc.message.splitlines()[0]}") from None
    if found is not None:
        exp_id = found.experiment_id
    else:
        exp_id = client.create_experiment(experiment, artifact_location=_artifact_location(uri))
    tags = {
        "dlpo.task": str(run.config.get("task")),
        "dlpo.recipe": str(run.recipe.get("name")),
        "dlpo.run_dir": str(run.path.resolve()),
        "dlpo.status": "finished" if run.finished else (run.stopped or "unfinished"),
    }
    mlrun = client.create_run(exp_id, run_name=run_name or run.name, tags=tags)
    run_id = mlrun.info.run_id
    try:
        params = [Param(k, scrub(v)) for k, v in sorted(flatten(run.config).items())]
        for i in range(0, len(params), 100):
            client.log_batch(run_id, params=params[i : i + 100])
        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, s) for k, v, s in step_metrics(run)]
        for i in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[i : i + 1000])
        client.log_batch(run_id, tags=[RunTag("mlflow.note.content", _note(run))])
        _log_artifacts(client, run_id, run, report)
    except Exception:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    return run_id


def _note(run: RunData) -> str:
    best = (run.result or {}).get("best", {})
    return scrub(
        f"dlpo run {run.name}: best prompt (step {best.get('step', '?')}):\n\n{best.get('prompt', '')}"
    )


def _log_artifacts(client: Any, run_id: str, run: RunData, report: bool) -> None:
    """prompts/{start,best,last}.txt, prompts/steps.jsonl, config.json, result.json, report files."""
    with tempfile.TemporaryDirectory(prefix="dlpo-mlflow-") as tmp:
        folder = Path(tmp)
        prompts = folder / "prompts"
        prompts.mkdir()
        for which in ("start", "best", "last"):
            found = run.prompt_at(which)
            if found is not None:
                (prompts / f"{which}.txt").write_text(scrub(found[0]) + "\n", encoding="utf-8")
        with (prompts / "steps.jsonl").open("w", encoding="utf-8") as fh:
            for r in run.steps:
                row = {
                    "step": r.step,
                    "status": r.status,
                    "val": r.val,
                    "prompt": r.prompt,
                    "candidate": r.candidate,
                }
                fh.write(scrub(json.dumps(row, ensure_ascii=False)) + "\n")
        client.log_artifacts(run_id, str(prompts), "prompts")
        for name in ("config.json", "result.json"):
            if (run.path / name).exists():
                client.log_artifact(run_id, str(run.path / name))
        if report:
            from dlpo.report import write_report

            html_path, md_path = write_report(run.path, folder / "report")
            client.log_artifact(run_id, str(html_path), "report")
            client.log_artifact(run_id, str(md_path), "report")
