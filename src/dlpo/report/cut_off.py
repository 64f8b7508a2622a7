"""Say when the answer limit, not the prompt, may cap a run's test score.

A forward answer that reaches `forward_max_tokens` is cut off (`finish_reason` "length"); on a task
whose answer comes last (an `Answer:` line after the working), a cut-off answer scores 0 however good
its working was. A prompt that makes the model work longer can then lose on test because of the
limit alone — seen on GSM8K with the 0.5B model, where 86 of 133 answers of tgd's best prompt were
cut off at 256 tokens. The evaluation events count the cut-off answers (`cut_off`); this module turns
the test events' counts into one sentence for the final screen and the reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dlpo.report.gain import read_test_events
from dlpo.runs.run_dir import RunDir

# Below this share of cut-off answers the limit is not what decides the score.
NOTE_SHARE = 0.1


def cut_off_sentence(cut: int, n: int, max_tokens: int | None, whose: str, context: str = "") -> str:
    """The sentence "k of n <whose> were cut off at the answer limit (m tokens); ...", with the remedy."""
    limit = f" ({max_tokens} tokens)" if max_tokens else ""
    return (
        f"{cut} of {n} {whose} were cut off at the answer limit{limit}{context}; a cut-off answer "
        "usually scores 0, so the limit may cap this score: raise it (--max-tokens, or "
        "forward_max_tokens) if the task needs longer answers"
    )


def cut_off_note(tests: Mapping[str, Mapping[str, Any]], max_tokens: int | None) -> str | None:
    """One sentence when the best (or else the last) prompt had at least NOTE_SHARE of its test
    answers cut off at the answer limit; None otherwise, and for events written before the count
    was recorded. `tests` maps which ("start", "best", "last") to its test event."""
    for which in ("best", "last"):
        event = tests.get(which)
        if event is None or event.get("cut_off") is None or not event.get("n"):
            continue
        cut, n = int(event["cut_off"]), int(event["n"])
        if cut / n < NOTE_SHARE:
            continue
        start = tests.get("start") or {}
        context = (
            f" (the starting prompt's: {int(start['cut_off'])} of {int(start['n'])})"
            if start.get("cut_off") is not None and start.get("n")
            else ""
        )
        return cut_off_sentence(cut, n, max_tokens, f"test answers of the {which} prompt", context)
    return None


def run_cut_off_note(run_dir: str | Path, tests: Mapping[str, Mapping[str, Any]] | None = None) -> str | None:
    """`cut_off_note` for a run folder: its test events (`tests` when already read) and its
    configured answer limit."""
    run = RunDir.open(run_dir)
    if tests is None:
        tests = read_test_events(run.path)
    return cut_off_note(tests, run.read_config().get("forward_max_tokens"))
