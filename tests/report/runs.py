"""Scripted runs for report tests: the scripted `sums` task and engines of tests/train (replies are
pure functions of the request, so the runs are real training runs, only without a model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from train.scripted_setup import engines, make_config, make_task


def scripted_fit(path: Path, *, preset: str = "dlpo", stop_after: int | None = None, **config: Any) -> Any:
    """A finished (or, with `stop_after`, killed) scripted run; `config` replaces make_config's
    values. Returns the `FitResult`."""
    from dlpo.train import fit

    forward, backward = engines()
    return fit(
        make_config(preset, **config),
        run_dir=path,
        task=make_task(),
        forward_engine=forward,
        backward_engine=backward,
        stop_after=stop_after,
    )


def scripted_run(
    path: Path, *, preset: str = "dlpo", steps: int = 4, seed: int = 1, stop_after: int | None = None
) -> Path:
    scripted_fit(path, preset=preset, steps=steps, seed=seed, stop_after=stop_after)
    return path
