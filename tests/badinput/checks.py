"""The contract every bad-input case checks: exit 2, one `error:` line naming what and where."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Outcome:
    code: int
    err: str
    out: str


def assert_input_error(outcome: Outcome, *needles: str) -> None:
    """Exit 2 and a single line that starts with `error:` and names every needle (what and where)."""
    assert outcome.code == 2, (outcome.code, outcome.err)
    lines = outcome.err.splitlines()
    assert len(lines) == 1, outcome.err
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in outcome.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
