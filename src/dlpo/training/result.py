"""The result of a run: the starting, best-validation and last prompts with their scores.

Shared by every method (`dlpo.train` for textual gradient descent, `dlpo.baselines` for APO), so
all of them test the same three prompts the same way and write the same `result.json`. With a warm
start (`TrainConfig.warm_start`), `warm_start` also records the original and the induced prompt
with their validation and test scores, so the warm start's effect is measured on its own.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpo.evaluation import EvalResult, evaluate
from dlpo.training.records import eval_payload, usage_payload
from dlpo.training.session import Session


@dataclass
class PromptScore:
    prompt: str
    step: int  # the step after which this prompt was current (0 = the starting prompt)
    val: float | None
    test: float | None = None

    @property
    def prompts(self) -> dict[str, str]:
        """The named prompts (a program's several; a plain task's one, called "system")."""
        from dlpo.programs import parse_prompts

        return parse_prompts(self.prompt)


@dataclass
class FitResult:
    run_dir: Path
    steps: int
    start: PromptScore
    best: PromptScore
    last: PromptScore
    stopped: str | None = None  # None (finished), "budget" or "requested" (stop_after)
    message: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    # {"original": {prompt, val, test}, "induced": {prompt, val, test} | None, "used", "reason",
    # "examples"} (`dlpo.optim.warm_start.WarmStart`); None without a warm start.
    warm_start: dict[str, Any] | None = None
    # per technique id, what it did over the run (`TextualGradientDescent.activity()`, TLRD's
    # schedule): e.g. {"tsa": {"hard_rejects": 1, ...}, "tlrd": {"lr_changes": 3}}
    activity: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def best_prompt(self) -> str:
        return self.best.prompt

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FitResult:
        """Inverse of `to_dict` (reads a run's `result.json`)."""
        return cls(
            run_dir=Path(d["run_dir"]),
            steps=d["steps"],
            start=PromptScore(**d["start"]),
            best=PromptScore(**d["best"]),
            last=PromptScore(**d["last"]),
            stopped=d["stopped"],
            message=d.get("message", ""),
            usage=d.get("usage", {}),
            warm_start=d.get("warm_start"),
            activity=d.get("activity", {}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "steps": self.steps,
            "stopped": self.stopped,
            "message": self.message,
            "start": vars(self.start),
            "best": vars(self.best),
            "last": vars(self.last),
            "usage": self.usage,
            **({"warm_start": self.warm_start} if self.warm_start is not None else {}),
            **({"activity": self.activity} if self.activity else {}),
        }


async def end_on_budget(s: Session, exc: Exception) -> FitResult:
    """The budget ran out: log it, then either stop (`budget.then == "stop"`: no test, a later
    resume with more budget continues) or end the optimization here and test the prompts outside
    the budget (`"test"`: the test split measures the result, it is not part of the method's cost)."""
    from dlpo.usage import Budget

    s.log.emit("stopped", s.step, reason="budget", message=str(exc), **usage_payload(s.ledger))
    if s.config.budget.then == "test" and s.book.start is not None:
        s.ledger.budget = Budget()
        return await finish_run(s, stopped="budget", message=str(exc))
    result = run_result(s, stopped="budget", message=str(exc))
    s.run.write_result(result.to_dict())
    return result


async def finish_run(s: Session, *, stopped: str | None = None, message: str = "") -> FitResult:
    """Test the starting, best-validation and last prompts (each distinct prompt once)."""
    tested: dict[str, EvalResult] = {}
    for which, rec in (("start", s.book.start), ("best", s.book.best), ("last", s.book.last)):
        assert rec is not None
        if rec.prompt not in tested:
            tested[rec.prompt] = await evaluate(
                s.forward, s.task, rec.prompt, s.test, role="test", max_tokens=s.config.forward_max_tokens
            )
        s.log.emit(
            "test",
            s.step,
            which=which,
            prompt_step=rec.step,
            split="test",
            **eval_payload(tested[rec.prompt]),
        )
    if s.warm is not None:  # the prompt the warm start replaced, tested like the others
        original = s.warm["original"]["prompt"]
        if original not in tested:
            tested[original] = await evaluate(
                s.forward, s.task, original, s.test, role="test", max_tokens=s.config.forward_max_tokens
            )
        s.log.emit(
            "test", s.step, which="original", prompt_step=0, split="test", **eval_payload(tested[original])
        )
    s.log.emit("usage", s.step, **usage_payload(s.ledger))
    result = run_result(s, stopped=stopped, message=message, tests={p: r.mean for p, r in tested.items()})
    s.run.write_result(result.to_dict())
    s.log.emit(
        "result",
        s.step,
        best_prompt=result.best.prompt,
        start_test=result.start.test,
        best_test=result.best.test,
        last_test=result.last.test,
    )
    s.finished, s.loop_done = True, True
    s.checkpoint()
    return result


def run_result(
    s: Session, *, stopped: str | None = None, message: str = "", tests: dict[str, float] | None = None
) -> FitResult:
    tests = tests or {}

    def score(rec: Any, fallback_step: int) -> PromptScore:
        if rec is None:  # stopped before the starting prompt was validated
            return PromptScore(s.prompt.text, fallback_step, None)
        return PromptScore(rec.prompt, rec.step, rec.val, tests.get(rec.prompt))

    # "last" is the last validated prompt: the current prompt after the final step, or after the
    # last completed step when a budget stopped the run mid-step.
    return FitResult(
        run_dir=s.run.path,
        steps=s.step,
        start=score(s.book.start, 0),
        best=score(s.book.best, 0),
        last=score(s.book.last, s.step),
        stopped=stopped,
        message=message,
        usage=usage_payload(s.ledger),
        warm_start=warm_start_record(s, tests),
        activity=technique_activity(s),
    )


def technique_activity(s: Session) -> dict[str, dict[str, int]]:
    """What each technique, the acceptance rule and the schedules did (empty for other methods)."""
    from dlpo.optim.base import activity_of

    get = getattr(s.optimizer, "activity", None)
    out: dict[str, dict[str, int]] = dict(get()) if callable(get) else {}
    for scheduler in s.schedulers:
        counts = activity_of(scheduler)
        if counts:
            out[getattr(scheduler, "technique", type(scheduler).__name__)] = counts
    return out


def warm_start_record(s: Session, tests: dict[str, float]) -> dict[str, Any] | None:
    """The session's warm start with the test scores filled in; an induced prompt the run started
    from takes its validation score from the start of the run."""
    if s.warm is None:
        return None
    record = copy.deepcopy(s.warm)
    for key in ("original", "induced"):
        part = record.get(key)
        if part is not None and part.get("test") is None:
            part["test"] = tests.get(part["prompt"])
    induced = record.get("induced")
    if induced is not None and record.get("used") and s.book.start is not None:
        induced["val"] = s.book.start.val
    return record
