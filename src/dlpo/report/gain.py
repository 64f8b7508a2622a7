"""The test gain of a run's chosen prompt over its starting prompt, with a paired 95 % interval.

Both prompts answer the same test questions, so the gain is a paired difference: per question
(chosen score - start score), its mean, and a seeded paired bootstrap interval
(`dlpo.experiments.stats.paired_bootstrap`). With n questions and binary scores an interval is
roughly ±2·sqrt(p(1-p)/n) wide on each side for a one-sided flip rate p, so small test sets cannot
tell a real gain from noise; `verdict` says so in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlpo.experiments.stats import paired_bootstrap
from dlpo.runs.events import latest_test_events, read_events
from dlpo.runs.run_dir import EVENTS_FILE


@dataclass(frozen=True)
class Gain:
    which: str  # "best" or "last"
    n: int
    start: float
    chosen: float
    delta: float
    ci_low: float
    ci_high: float

    @property
    def significant(self) -> bool:
        return self.n > 0 and (self.ci_low > 0 or self.ci_high < 0)

    def verdict(self) -> str:
        if self.n == 0:
            return "no test questions: nothing to compare"
        if self.delta == 0 and self.ci_low == self.ci_high == 0:
            return f"the {self.which} prompt answered every test question as the starting prompt did"
        if self.significant:
            word = "better" if self.delta > 0 else "worse"
            return f"the {self.which} prompt is {word} than the starting prompt (the 95% interval excludes 0)"
        return (
            f"the sample cannot tell: the 95% interval includes 0 (n={self.n}); "
            "use more test questions (--test-limit) to decide"
        )


def read_test_events(run_dir: str | Path) -> dict[str, dict[str, Any]]:
    """A run's test evaluations by which prompt they scored ("start", "best", "last")."""
    return latest_test_events(read_events(Path(run_dir) / EVENTS_FILE))


def paired_gain(run_dir: str | Path, which: str = "best", samples: int = 2000, seed: int = 0) -> Gain | None:
    """The paired gain of the `which` prompt over the start on the run's test split (None when the
    run has no test evaluation of both)."""
    return gain_over_start(read_test_events(run_dir), which, samples=samples, seed=seed)


def gain_over_start(
    tests: Mapping[str, Mapping[str, Any]], which: str = "best", samples: int = 2000, seed: int = 0
) -> Gain | None:
    """`paired_gain` from test events already read (`read_test_events`)."""
    start, chosen = tests.get("start"), tests.get(which)
    if start is None or chosen is None:
        return None
    by_id = dict(zip(start["ids"], start["scores"], strict=True))
    ids = [i for i in chosen["ids"] if i in by_id]
    a = [dict(zip(chosen["ids"], chosen["scores"], strict=True))[i] for i in ids]
    b = [by_id[i] for i in ids]
    boot = paired_bootstrap(a, b, samples=samples, seed=seed)
    n = len(ids)
    return Gain(
        which=which,
        n=n,
        start=sum(b) / n if n else 0.0,
        chosen=sum(a) / n if n else 0.0,
        delta=boot.delta if n else 0.0,
        ci_low=boot.ci_low if n else 0.0,
        ci_high=boot.ci_high if n else 0.0,
    )
