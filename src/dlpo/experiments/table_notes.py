"""Notes under a sweep's tables: which llama-server builds answered the trials, and how many of the
best prompts' test answers were cut off at the answer limit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any


def build_set(trial: dict[str, Any]) -> frozenset[str] | None:
    """Every llama-server build that answered a trial's requests; None for trials without records."""
    builds = trial.get("builds")
    if builds is None:
        return None
    return frozenset(b for bs in builds.values() for b in bs)


def builds_note(trials: Sequence[dict[str, Any]]) -> str:
    """Which llama-server builds made the trials' answers; a warning when they are mixed.

    Builds of one llama.cpp source for different CPUs give different greedy answers, so rows of
    different builds are not replays of each other (docs/results.md measured 2-3 of 100 answers)."""
    trials_per_build: Counter[str] = Counter()
    for t in trials:
        builds = build_set(t)
        label = "not recorded" if builds is None else " + ".join(sorted(builds)) or "none named"
        trials_per_build[label] += 1
    if not trials_per_build:
        return ""
    parts = [f"`{label}` ({n} trials)" for label, n in sorted(trials_per_build.items())]
    known = [label for label in trials_per_build if label not in ("not recorded", "none named")]
    text = "llama-server builds of the answers: " + ", ".join(parts) + ".\n"
    if len(known) > 1 or (known and "not recorded" in trials_per_build):
        text += (
            "\n**Mixed builds:** greedy answers differ between builds, so trials of different builds "
            "are not replays of one another; compare methods within one build.\n"
        )
    return text


def sweep_cut_off_note(trials: Sequence[dict[str, Any]]) -> str:
    """Per task and method, how many of the best-validation prompts' test answers (all seeds) were
    cut off at the answer limit; empty when none was (or no trial recorded the count)."""
    counts: dict[tuple[str, str], list[int]] = {}
    for t in trials:
        cut = (t.get("test_cut_off") or {}).get("best")
        if cut is None:
            continue
        c = counts.setdefault((t["task"], t["method"]), [0, 0])
        c[0] += cut
        c[1] += len((t.get("test_scores") or {}).get("best") or {})
    if not any(cut for cut, _ in counts.values()):
        return ""
    parts = [f"{task} {method} {cut}/{n}" for (task, method), (cut, n) in counts.items()]
    return (
        "Test answers of the best-validation prompts cut off at the answer limit (`forward_max_tokens`; "
        "a cut-off answer usually scores 0, so the limit can decide a comparison): "
        + ", ".join(parts)
        + ".\n"
    )
