"""The feedback switch, the same for every method: `facts` (code-computed facts) or `plain`.

`FeedbackPolicy(mode, task)` is a run option (`TrainConfig.feedback`), applied identically by the
textual-gradient loop (dlpo's engineered gradient and TextGrad's two hops) and by APO:

* `facts`: the backward model is told, per example, what went wrong (the scorer's reason and what
  the reply's layout shows, `what_went_wrong`); the optimizer's feedback starts with the same
  head for every method (`feedback_head`): the batch's scorer facts, the task conventions
  (`dlpo.tasks.conventions`, stated once per step) and at most `MAX_HINTS` fix hints for the task's
  answer kind, so at least `MIN_CRITIC` critic suggestions always fit after them;
* `plain`: nothing computed by code: the backward model sees each example with its expected and
  found answer (label / prediction, as the methods' released code shows them) and the optimizer
  sees only the method's own feedback.

Under both, what a prompt-writing call sees has the batch's per-example values masked
(`dlpo.optim.masking`); docs/feedback.md states the whole information policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dlpo.evaluation import ExampleResult
from dlpo.optim.facts import ALL_CORRECT, MAX_SUGGESTIONS, batch_facts, echoes, fix_hints, observations
from dlpo.optim.masking import BatchValues, batch_values
from dlpo.optim.parsing import SUGGESTIONS_HEADER
from dlpo.tasks.conventions import TaskFacts

FeedbackMode = Literal["facts", "plain"]
FEEDBACK_MODES: tuple[str, ...] = ("facts", "plain")
MAX_HINTS = 2  # fix hints never crowd out the critic: with MAX_SUGGESTIONS 4, two critic lines fit
MIN_CRITIC = MAX_SUGGESTIONS - MAX_HINTS

# A fix hint the prompt already contains did not work as worded: ask for it stronger, not again.
# (A plain line after the bullets: prose, so pasting it is rejected while the bullets may be copied.)
ECHO_NOTE = (
    "\nSome of these are already in the prompt but were not followed: state them more strongly, or put them "
    "first."
)


@dataclass(frozen=True)
class FeedbackPolicy:
    """`mode` is the switch; `task` the task-level facts of the run (computed once from the train
    split; None outside a run, e.g. a hand-made batch in a test)."""

    mode: FeedbackMode = "facts"
    task: TaskFacts | None = None

    def __post_init__(self) -> None:
        if self.mode not in FEEDBACK_MODES:
            raise ValueError(f"unknown feedback mode {self.mode!r}; allowed: {', '.join(FEEDBACK_MODES)}")

    @property
    def facts(self) -> bool:
        return self.mode == "facts"

    @property
    def labels(self) -> tuple[str, ...]:
        return self.task.labels if self.task is not None else ()

    def values(self, items: Sequence[ExampleResult]) -> BatchValues:
        """The batch's per-example values to mask (the task's labels may be named in suggestions)."""
        return batch_values(items, self.labels)


def what_went_wrong(item: ExampleResult, policy: FeedbackPolicy) -> str:
    """The per-example diagnosis shown to the backward model: the scorer's reason and the layout
    observations under `facts`, '' under `plain` (and for a correct reply)."""
    if not policy.facts or item.score.correct:
        return ""
    return "; ".join([item.score.reason, *observations(item, policy.task)])


def hints(items: Sequence[ExampleResult], policy: FeedbackPolicy) -> list[str]:
    """At most `MAX_HINTS` fix hints for the batch's failures, worded for the answer kind (`facts`)."""
    return fix_hints(items, policy.task, limit=MAX_HINTS) if policy.facts else []


def merge(hint_lines: Sequence[str], critic: Sequence[str], limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The suggested instructions: the hints first (at most MAX_HINTS), then critic lines up to
    `limit`, without duplicates; hints never take the room of the first MIN_CRITIC critic lines."""
    head = list(dict.fromkeys(hint_lines))[:MAX_HINTS]
    rest = [c for c in dict.fromkeys(critic) if c not in head]
    room = max(limit - len(head), min(MIN_CRITIC, len(rest)))
    return head + rest[:room]


def suggestions_block(lines: Sequence[str]) -> str:
    return f"{SUGGESTIONS_HEADER}\n" + "\n".join(f"- {s}" for s in lines) if lines else ""


def facts_block(items: Sequence[ExampleResult], policy: FeedbackPolicy, values: BatchValues) -> str:
    """The scorer facts and the task conventions ('' under `plain`)."""
    if not policy.facts:
        return ""
    conventions = policy.task.render() if policy.task is not None else ""
    return "\n\n".join(b for b in (batch_facts(items, policy.task, values), conventions) if b)


def compose(
    items: Sequence[ExampleResult],
    policy: FeedbackPolicy,
    critic: Sequence[str] = (),
    prompt: str = "",
) -> str:
    """The optimizer-facing feedback: facts block, then the suggested instructions (fix hints first,
    then `critic`), then the echo note when a hint is already in `prompt` but was not followed.
    Every method's feedback starts with `compose(items, policy)` (no critic lines)."""
    values = policy.values(items)
    hint_lines = hints(items, policy)
    lines = merge(hint_lines, critic)
    head = facts_block(items, policy, values)
    if not head and not any(not i.score.correct for i in items):
        head = ALL_CORRECT.format(n=len(items))
    text = "\n\n".join(b for b in (head, suggestions_block(lines)) if b)
    repeated = bool(prompt) and any(echoes(h, prompt) for h in hint_lines)
    return text + (ECHO_NOTE if repeated else "")


def feedback_head(items: Sequence[ExampleResult], policy: FeedbackPolicy) -> str:
    """What every method's optimizer-facing feedback starts with (no critic lines)."""
    return compose(items, policy)
