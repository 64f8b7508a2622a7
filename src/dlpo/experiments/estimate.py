"""How long a sweep's remaining trials will take, from the wall time of the trials already finished.

A sweep split across sessions or machines needs this before it starts: each pending trial is
estimated by the mean `wall_s` of finished trials of the same method, task and engine pair; failing
that, of finished trials of the same task and engine pair and the same kind (human prompts, which only
test, or optimizers). A trial with neither has no estimate and is named. The figure is only as good
as the machine and slots the finished trials ran with; when they ran on more than one llama.cpp
build (the builds recorded in each row), the text says the figure mixes those machines' speeds.
A row whose wall time reads 0 (its run's timing was lost) is no basis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from dlpo.experiments.table_notes import build_set
from dlpo.experiments.trials import Trial

__all__ = ["WallEstimate", "estimate_wall"]


def _human(method: str) -> bool:
    return method.startswith("human")


@dataclass(frozen=True)
class WallEstimate:
    seconds: float  # the estimated trials together
    pending_ids: tuple[str, ...]  # trials not finished
    without_basis: tuple[str, ...]  # pending trials no finished trial can estimate
    basis: int  # finished trials with a wall time
    builds: int = 1  # distinct sets of builds among them (0 or 1: one machine, or none recorded)

    @property
    def pending(self) -> int:
        return len(self.pending_ids)

    def text(self) -> str:
        if self.pending == 0:
            return "every trial is finished"
        known = self.pending - len(self.without_basis)
        line = f"{self.pending} trial(s) to run"
        if known:
            where = (
                "on the machine that ran"
                if self.builds <= 1
                else f"at the mixed speeds of the {self.builds} builds (machines) that ran"
            )
            line += (
                f"; {known} of them about {_duration(self.seconds)} in all {where} "
                f"the {self.basis} finished trial(s) (the mean wall time of finished trials like each)"
            )
        if self.without_basis:
            line += f"; no finished trial to estimate {len(self.without_basis)}: run one of them first"
        return line


def _duration(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def estimate_wall(pending: Sequence[Trial], rows: Sequence[dict[str, Any]]) -> WallEstimate:
    """The estimate for the `pending` trials from the finished trials' `rows`."""
    # a wall time of 0 is unknown, not instant (a row whose run lost its timing reads 0)
    timed = [r for r in rows if isinstance(r.get("wall_s"), int | float) and r["wall_s"] > 0]
    same: dict[tuple[str, str, str], list[float]] = {}
    kind: dict[tuple[str, str, bool], list[float]] = {}
    for r in timed:
        same.setdefault((r["method"], r["task"], r["engine"]), []).append(float(r["wall_s"]))
        kind.setdefault((r["task"], r["engine"], _human(r["method"])), []).append(float(r["wall_s"]))
    seconds, missing = 0.0, []
    for t in pending:
        walls = same.get((t.method, t.task, t.engine)) or kind.get((t.task, t.engine, _human(t.method)))
        if walls:
            seconds += fmean(walls)
        else:
            missing.append(t.id)
    builds = {build_set(r) for r in timed} - {None, frozenset()}
    return WallEstimate(seconds, tuple(t.id for t in pending), tuple(missing), len(timed), builds=len(builds))
