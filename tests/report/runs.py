"""Scripted runs for report tests: the scripted `sums` task and engines of tests/train (replies are
pure functions of the request, so the runs are real training runs, only without a model)."""

from __future__ import annotations

from pathlib import Path

from train.scripted_setup import engines, make_config, make_task


def scripted_run(
    path: Path, *, preset: str = "dlpo", steps: int = 4, seed: int = 1, stop_after: int | None = None
) -> Path:
    from dlpo.train import fit

    forward, backward = engines()
    fit(
        make_config(preset, steps=steps, seed=seed),
        run_dir=path,
        task=make_task(),
        forward_engine=forward,
        backward_engine=backward,
        stop_after=stop_after,
    )
    return path
