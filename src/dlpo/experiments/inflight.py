"""Where an unfinished trial stands, read from its run folder: for `dlpo sweep --tables-only`
while a sweep runs (or after one was stopped), so a long sweep can be followed without reading
event logs by hand.

Only the folder is read (the event log, written as the run goes, and the config): no model call,
no lock, safe beside a running trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlpo.errors import ConfigError
from dlpo.experiments.trials import Trial, trial_dir
from dlpo.runs.events import read_events
from dlpo.runs.wall import run_wall_s

__all__ = ["TrialProgress", "trial_progress"]


@dataclass(frozen=True)
class TrialProgress:
    id: str
    step: int  # optimizer steps (APO: rounds) finished
    max_steps: int | None  # the steps planned: what the budget buys (else the config's cap)
    tokens: int  # tokens charged so far (what the trial would have spent alone)
    max_tokens: int | None  # the token budget, when the trial has one
    testing: bool  # the optimization ended; the prompts are being tested
    wall_s: float | None  # from its first event to its last (resume gaps left out)

    def text(self) -> str:
        of = f" of {self.max_steps}" if self.max_steps else ""
        parts = [f"step {self.step}{of}"]
        budget = f" of {self.max_tokens:,}" if self.max_tokens else ""
        parts.append(f"{self.tokens:,}{budget} tokens")
        if self.testing:
            parts.append("testing the prompts")
        if self.wall_s is not None:
            parts.append(f"{self.wall_s / 60:.0f} min so far")
        return f"{self.id}: " + ", ".join(parts)


def trial_progress(sweep_dir: str | Path, trial: Trial) -> TrialProgress | None:
    """The progress of a trial that has started and not finished; None when it has not started (or
    its log cannot be read: the trial itself will say why when it runs)."""
    path = trial_dir(sweep_dir, trial)
    try:
        events = read_events(path / "events.jsonl")
    except (ConfigError, OSError):
        return None
    if not events:
        return None
    config: dict[str, Any] = trial.config
    budget = config.get("budget") or {}
    step, planned, tokens, testing = 0, config.get("steps"), 0, False
    for event in events:
        kind = event.get("type")
        if kind in ("test", "stopped"):
            testing = True  # the tokens spent on testing are outside the budget: not counted here
        elif testing:
            continue
        elif kind == "step":
            step = int(event.get("step", step))
        elif kind == "plan":  # the steps the rest of the budget buys (`training.step_plan`)
            planned = event.get("planned_steps", planned)
        elif kind == "usage":
            tokens = int(event.get("total", {}).get("tokens_alone", tokens))
    try:
        wall = run_wall_s(path, events)
    except (ConfigError, OSError, KeyError, ValueError):
        wall = None
    return TrialProgress(trial.id, step, planned, tokens, budget.get("max_tokens"), testing, wall)
