"""User metrics: `metric(output, example) -> float | bool | Score`, sync or async.

A metric sees the model's output and the whole example (its `input`, `target` and `metadata`). What
it returns becomes a `Score`:

* a `Score` is kept as it is — its `reason` is what the backward model learns from, so a metric
  that says *why* an answer is wrong ("cites no source", "answered in French") teaches the optimizer
  far more than a number;
* `True`/`False` -> 1/0 with a generic reason, a float in [0, 1] -> that value with a generic reason.

A metric is user code, so its failures are normal input: one that raises, runs longer than
`timeout` seconds, or returns anything else (a string, None, a float outside [0, 1], NaN) gives a
`MetricError` naming the example, where the run was, and the value or exception. With
`on_error="score_zero"` such an example scores 0 with the problem as its reason and the run goes on.
A hung synchronous metric keeps its worker thread busy after the timeout (Python cannot stop a
thread); the run itself is not blocked.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from dlpo.errors import DlpoError
from dlpo.tasks.base import Example, Score

MetricFn = Callable[[str, Example], "float | bool | Score | Awaitable[float | bool | Score]"]
OnError = Literal["raise", "score_zero"]
ON_ERROR: tuple[str, ...] = ("raise", "score_zero")


class MetricError(DlpoError):
    """A user metric failed on an example (exit code 2; the run folder and its cache are kept)."""

    def __init__(self, example_id: str, problem: str) -> None:
        super().__init__(problem)
        self.example_id = example_id
        self.problem = problem
        self.where: str | None = None  # set by the training loop: "step 3", "the test evaluation"

    def __str__(self) -> str:
        where = f" during {self.where}" if self.where else ""
        return (
            f"metric {self.problem} on example {self.example_id!r}{where}; fix the metric, or pass "
            "on_error='score_zero' to score such examples 0 and go on"
        )


def as_score(value: Any, example_id: str) -> Score:
    """The `Score` of what a metric returned, or `MetricError` when it is not a score."""
    if isinstance(value, Score):
        if not _in_unit(value.value):
            raise MetricError(example_id, f"returned a Score with value {value.value!r} (not in [0, 1])")
        return value
    if isinstance(value, bool):
        return Score(
            1.0 if value else 0.0,
            None,
            "the metric judged the answer right" if value else "the metric judged the answer wrong",
        )
    if isinstance(value, (int, float)):
        if not _in_unit(float(value)):
            raise MetricError(
                example_id, f"returned {value!r} (expected a float in [0, 1], a bool or a Score)"
            )
        v = float(value)
        return Score(v, None, f"the metric scored the answer {v:.2f} of 1")
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    raise MetricError(
        example_id,
        f"returned {shown} of type {type(value).__name__} (expected a float in [0, 1], a bool or a Score)",
    )


def _in_unit(v: float) -> bool:
    return isinstance(v, (int, float)) and not math.isnan(v) and 0.0 <= v <= 1.0


async def call_metric(metric: Any, output: str, example: Example, timeout: float) -> Any:
    """Run `metric(output, example)`: awaited when it is async, in a worker thread when it is not, and
    given up on after `timeout` seconds (`TimeoutError`)."""
    call = type(metric).__call__ if not inspect.isfunction(metric) else metric
    if inspect.iscoroutinefunction(metric) or inspect.iscoroutinefunction(call):
        return await asyncio.wait_for(metric(output, example), timeout)
    result = await asyncio.wait_for(asyncio.to_thread(metric, output, example), timeout)
    if inspect.isawaitable(result):
        return await asyncio.wait_for(result, timeout)
    return result


async def score_with_metric(
    metric: Any, output: str, example: Example, *, timeout: float = 60.0, on_error: OnError = "raise"
) -> Score:
    """The metric's score of `output` on `example`, with its failures handled by `on_error`."""
    try:
        try:
            value = await call_metric(metric, output, example, timeout)
        except TimeoutError:
            raise MetricError(example.id, f"took longer than {timeout:g} s") from None
        except DlpoError:
            raise
        except Exception as exc:  # user code: any exception is reported, never crashes the run
            detail = " ".join(str(exc).split()) or "(no message)"
            raise MetricError(example.id, f"raised {type(exc).__name__}: {detail[:200]}") from exc
        return as_score(value, example.id)
    except MetricError as err:
        if on_error == "score_zero":
            return Score(0.0, None, f"metric error: {err.problem}")
        raise
