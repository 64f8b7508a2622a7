"""Contracts of the optimizer's extension points.

A step, seen from the optimizer (`dlpo.optim.optimizer.TextualGradientDescent.step`):

1. `ctx = UpdateContext(...)` describes the step (prompt, gradient, step index, seeded RNG, lr).
2. Each active `Technique` may add `RequestSection`s to the update request (`sections(ctx)`).
3. The backward model writes a candidate; it is parsed (`dlpo.optim.parsing`).
4. Each technique `check`s the candidate and may repair it or ask for one re-ask.
5. The `AcceptanceRule` keeps the candidate or returns to the current prompt.
6. Each technique `observe`s the `StepOutcome` (memories, histories).

Techniques, acceptance rules and schedules hold explicit state (`state_dict` / `load_state_dict`,
JSON-serialisable) so a run can be checkpointed and resumed exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from dlpo.optim.masking import BatchValues


@dataclass(frozen=True)
class Gradient:
    """A textual gradient: the reduced criticism of the prompt from one minibatch.

    `critiques` are the per-example critiques it was reduced from; `batch_score` is the minibatch's
    mean score under the prompt that was criticised.
    """

    text: str
    critiques: tuple[str, ...] = ()
    batch_score: float = 0.0
    # Texts of the batch the backward model saw (questions, model answers, expected answers). The
    # optimizer rejects a candidate prompt that pastes them in (added by the optimizer helper).
    sources: tuple[str, ...] = ()
    # The fix hints and the cleaned critic suggestions inside `text` (the optimizer's fallback
    # builds a one-sentence edit from the first of them), and the batch's per-example values that a
    # candidate must not state (`dlpo.optim.masking`).
    hints: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    values: BatchValues | None = None
    # The task's conventions (`tasks.conventions.TaskFacts`) when the feedback shows them (`facts`):
    # the unchanged fallback states an unstated one verbatim before asking the model for a sentence.
    task_facts: Any = None


@dataclass(frozen=True)
class RequestSection:
    """A block of the update request, rendered as `<TAG>\\nbody\\n</TAG>` after an instruction."""

    tag: str
    body: str
    technique: str = ""
    instruction: str = ""  # text placed before the tagged block (may be the whole section if tag == "")


@dataclass
class UpdateContext:
    """What techniques see while the update request is built and the candidate checked."""

    step: int
    prompt: str
    gradient: Gradient
    rng: random.Random
    lr: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # per-step scratch shared between techniques


@dataclass
class CheckResult:
    """A technique's verdict on a candidate.

    `candidate` is the (possibly repaired) text. `reask` is a short message for one re-ask of the
    optimizer model (None = no re-ask wanted). `metrics` are logged with the step (e.g. measured
    edits, restored sentences). `violations` counts rule breaks found before repair.
    """

    candidate: str
    reask: str | None = None
    violations: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepOutcome:
    step: int
    prompt_before: str
    candidate: str | None  # None when no usable candidate was produced (failed step)
    accepted: bool
    gradient: Gradient
    score_before: float | None = None  # acceptance-set score of the current prompt
    score_candidate: float | None = None
    reason: str = ""


DEFAULT_ORDER = 100  # where a technique without its own order goes: after the built-in ones


@runtime_checkable
class Technique(Protocol):
    """One technique of the update step. A new technique is one object with these members; nothing
    else in dlpo needs to know its name.

    * `sections(ctx)`: blocks to add to the update request; they are placed by `section_order`
      (lower first; the built-ins use 10-50, so a technique without one goes last).
    * `check(ctx, candidate)`: verify or repair a candidate; checks run by `check_order` (repairs
      before measurements: TDO 10, TLR 20).
    * `observe(outcome)`: learn from the step's outcome (accepted or not, scores).
    * `state_dict()` / `load_state_dict()`: everything needed to resume.
    * `activity()` (optional): cumulative counts of what it did, reported per run so that a
      technique that never acted shows it.
    * `needs_scores` (optional): the candidate must be scored on the acceptance set.
    * `replan(planned_steps)` (optional, `Replannable`): the run's length changed (a budget buys
      fewer steps than configured); schedules that scale with the run follow it.
    """

    name: str

    def sections(self, ctx: UpdateContext) -> list[RequestSection]: ...

    def check(self, ctx: UpdateContext, candidate: str) -> CheckResult: ...

    def observe(self, outcome: StepOutcome) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def section_order(technique: object) -> int:
    return int(getattr(technique, "section_order", DEFAULT_ORDER))


def check_order(technique: object) -> int:
    return int(getattr(technique, "check_order", DEFAULT_ORDER))


def activity_of(component: object) -> dict[str, int]:
    """A technique's, acceptance rule's or schedule's activity counts ({} when it keeps none)."""
    get = getattr(component, "activity", None)
    return dict(get()) if callable(get) else {}


# Counts that record what happened without the technique changing anything.
PASSIVE_COUNTS = frozenset({"not_worse", "stored", "edits_measured"})


def acted(counts: dict[str, int]) -> bool:
    """Whether a technique did anything (a count other than the passive ones is positive)."""
    return any(v > 0 for k, v in counts.items() if k not in PASSIVE_COUNTS)


@dataclass(frozen=True)
class Decision:
    accept: bool
    reason: str
    delta: float | None = None
    temperature: float | None = None
    probability: float | None = None
    draw: float | None = None  # the uniform draw u compared with `probability` (TSA), when one was made


@runtime_checkable
class AcceptanceRule(Protocol):
    """Decides whether a candidate replaces the current prompt.

    `needs_scores` is False for rules (AlwaysAccept) that do not need the acceptance-set scores,
    so the optimizer can skip those forward calls.
    """

    name: str
    needs_scores: bool

    def decide(self, current: float | None, candidate: float | None, rng: random.Random) -> Decision: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class Replannable(Protocol):
    """A technique or acceptance rule whose schedule scales with the run's planned steps (TSA's
    run-scaled temperature, TRegu's warm-up). `replan` is called when the plan changes
    (`dlpo.training.step_plan`); what it changes must be in its `state_dict`."""

    def replan(self, planned_steps: int) -> None: ...


def replan_all(components: list[object], planned_steps: int) -> None:
    """Tell each component that has a `replan` method the run's new planned steps."""
    for component in components:
        if isinstance(component, Replannable):
            component.replan(planned_steps)


@runtime_checkable
class Schedule(Protocol):
    """Maps a step counter to a value (learning rate, temperature)."""

    def __call__(self, t: int) -> float: ...
