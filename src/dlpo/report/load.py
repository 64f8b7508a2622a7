"""Read a run directory into the tables a report needs.

A run's `events.jsonl` is the source of truth (the training loop writes one event per forward
batch, gradient, update request, candidate, edits, decision, validation, step, usage, test); this
module folds it into one `StepRow` per optimizer step plus the run's start, tests and usage. It
reads unfinished and budget-stopped runs too (missing parts are None).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError
from dlpo.runs.events import read_events
from dlpo.runs.run_dir import RunDir
from dlpo.runs.wall import run_wall_s
from dlpo.training.records import decision_status


@dataclass
class StepRow:
    """One optimizer step as the report shows it. `prompt` is the current prompt after the step."""

    step: int
    epoch: int | None = None
    batch_score: float | None = None
    val: float | None = None
    accepted: bool | None = None
    failed: bool = False
    skipped: bool = False  # an all-correct batch: no backward or optimizer call
    reason: str = ""
    delta: float | None = None
    temperature: float | None = None
    lr: float | None = None
    score_before: float | None = None
    score_candidate: float | None = None
    candidate: str | None = None
    prompt: str = ""
    gradient: str = ""
    edits: dict[str, int] = field(default_factory=dict)
    edits_budget: int | None = None
    reasks: int = 0
    trimmed: bool = False
    prompt_words: int | None = None

    @property
    def status(self) -> str:
        return decision_status(self.accepted, self.failed, self.skipped)


@dataclass
class RunData:
    path: Path
    name: str
    config: dict[str, Any]
    result: dict[str, Any] | None
    start_prompt: str
    start_val: float | None
    steps: list[StepRow]
    tests: dict[str, dict[str, Any]]  # which (start/best/last) -> {"score", "n", "prompt_step", "cut_off"}
    usage: dict[str, Any]  # the last usage event: {"roles": {...}, "total": {...}, "builds": {...}}
    usage_by_step: list[tuple[int, dict[str, Any]]]
    stopped: str | None
    elapsed_s: float | None
    plans: list[dict[str, Any]] = field(default_factory=list)  # "plan" events: the budget cut the steps

    @property
    def recipe(self) -> dict[str, Any]:
        return self.config.get("recipe", {})

    @property
    def label(self) -> str:
        return f"{self.name} ({self.recipe.get('name', '?')}, seed {self.config.get('seed', '?')})"

    @property
    def finished(self) -> bool:
        return self.result is not None and self.result.get("stopped") is None

    def prompt_at(self, which: str) -> tuple[str, int] | None:
        """(prompt, step) of 'start', 'best' or 'last' from result.json, or from the events."""
        if self.result and which in self.result:
            rec = self.result[which]
            return rec["prompt"], int(rec["step"])
        if which == "start" or not self.steps:
            return self.start_prompt, 0
        if which == "last":
            return self.steps[-1].prompt, self.steps[-1].step
        return None


def load_run(path: str | Path) -> RunData:
    """Load a run directory; a folder that is not a run is a `ConfigError`."""
    run = RunDir.open(path)
    events = read_events(run.events_path)
    if not events:
        raise ConfigError(f"{run.path}: the run has no events yet (events.jsonl is empty)")
    config = run.read_config()
    rows: dict[int, StepRow] = {}
    start_prompt, start_val = "", None
    tests: dict[str, dict[str, Any]] = {}
    usage: dict[str, Any] = {}
    usage_by_step: list[tuple[int, dict[str, Any]]] = []
    stopped = None
    plans: list[dict[str, Any]] = []

    def row(step: int) -> StepRow:
        return rows.setdefault(step, StepRow(step))

    for e in events:
        kind, step = e["type"], int(e.get("step", 0))
        if kind == "start":
            start_prompt = e.get("prompt", "")
        elif kind == "validation" and step == 0:
            start_val = e.get("score")
        elif kind == "forward_batch":
            row(step).batch_score = e.get("score")
            row(step).epoch = e.get("epoch")
        elif kind == "gradient":
            row(step).gradient = e.get("text", "")
        elif kind == "candidate":
            row(step).candidate = e.get("candidate")
        elif kind == "edits":
            _apply_edits(row(step), e.get("metrics") or {})
        elif kind == "decision":
            r = row(step)
            r.accepted, r.failed, r.reason = e.get("accepted"), bool(e.get("failed")), e.get("reason") or ""
            r.skipped = bool(e.get("skipped"))
            r.delta, r.temperature = e.get("delta"), e.get("temperature")
            r.score_before, r.score_candidate = e.get("score_before"), e.get("score_candidate")
        elif kind == "step":
            r = row(step)
            r.val, r.lr, r.prompt = e.get("val"), e.get("lr"), e.get("prompt", "")
            r.epoch = e.get("epoch", r.epoch)
            r.prompt_words = len(r.prompt.split())
        elif kind == "usage":
            usage = {"roles": e.get("roles", {}), "total": e.get("total", {}), "builds": e.get("builds", {})}
            usage_by_step.append((step, usage))
        elif kind == "test":
            tests[e["which"]] = {
                "score": e.get("score"),
                "n": e.get("n"),
                "prompt_step": e.get("prompt_step"),
                "cut_off": e.get("cut_off"),  # None in runs written before it was counted
            }
        elif kind == "stopped":
            stopped = e.get("reason")
        elif kind == "plan":
            plans.append(e)
    result = run.read_result()
    if result is not None:
        stopped = result.get("stopped", stopped)
    steps = [rows[k] for k in sorted(rows) if k > 0 and rows[k].prompt]  # only completed steps
    elapsed = run_wall_s(run.path, events)
    return RunData(
        path=run.path,
        name=run.path.name,
        config=config,
        result=result,
        start_prompt=start_prompt,
        start_val=start_val,
        steps=steps,
        tests=tests,
        usage=usage,
        usage_by_step=usage_by_step,
        stopped=stopped,
        elapsed_s=elapsed,
        plans=plans,
    )


def _apply_edits(r: StepRow, m: dict[str, Any]) -> None:
    r.edits = dict(m.get("edits") or {})
    budget = m.get("edits_budget")
    r.edits_budget = int(budget) if budget is not None else None
    r.reasks = int(m.get("reasks") or 0)
    r.trimmed = bool(m.get("trimmed"))
