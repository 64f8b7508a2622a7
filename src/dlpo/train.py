"""The training loop: minibatches, forward, loss, backward, step, accept, validate, checkpoint.

    result = fit(TrainConfig(task="demo", recipe=resolve_recipe("dlpo"), steps=4))

One step (paper.md §1.2): the forward model answers a seeded minibatch under the current prompt;
the task scorer grades it; the backward model writes a textual gradient from every example; the
optimizer (with the recipe's techniques and acceptance rule) rewrites the prompt; the current prompt
is validated; the best-validation prompt is tracked; a checkpoint is written. At the end the
starting, best-validation and last prompts are evaluated on the test split (`result.json`).

Everything is logged to the run directory (`dlpo.runs`). `afit(resume=run_dir)` continues a killed
run: it restores the checkpoint, truncates the event log to the checkpoint's event count and
replays the unfinished step, whose finished LLM calls come back from the run's cache; the result
and the event stream equal those of an uninterrupted run (up to timing and call/hit accounting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlpo.engines.base import Engine, run_sync
from dlpo.errors import BudgetExceeded, ConfigError, DlpoError
from dlpo.evaluation import evaluate
from dlpo.optim.loss import textual_loss
from dlpo.optim.presets import Components
from dlpo.runs.events import EventCallback, EventLog
from dlpo.tasks.base import Task
from dlpo.tasks.metric import MetricError
from dlpo.training.config import BudgetConfig, TrainConfig
from dlpo.training.records import (
    emit_step_events,
    eval_payload,
    gradient_payload,
    run_options,
    usage_payload,
)
from dlpo.training.result import FitResult, PromptScore, end_on_budget, finish_run, run_result
from dlpo.training.session import Session, open_session

SKIPPED_REASON = "skipped: every answer of the batch was correct (no backward or optimizer call)"

__all__ = ["BudgetConfig", "FitResult", "PromptScore", "TrainConfig", "afit", "fit"]


async def afit(
    config: TrainConfig | None = None,
    *,
    run_dir: str | Path | None = None,
    resume: str | Path | None = None,
    task: Task | None = None,
    forward_engine: Engine | None = None,
    backward_engine: Engine | None = None,
    on_event: EventCallback | None = None,
    stop_after: int | None = None,
    cache: bool = True,
    components: Components | None = None,
) -> FitResult:
    """Optimize `config.task`'s prompt; returns the start/best/last prompts and their scores.

    `run_dir` defaults to `runs/<task>-<preset>-<timestamp>`; `resume` continues the run in that
    folder (its saved config is used when `config` is None, and a differing config is refused).
    `task`, `forward_engine`, `backward_engine` override what the config names (tests, notebooks).
    `on_event` sees every logged event (progress displays). `stop_after=k` stops after the
    checkpoint of step k, as if the process had been killed there (for resume tests).
    `cache=False` bypasses the run's response cache (a resumed run then repeats calls).
    `components`: techniques, an acceptance rule or a schedule given as objects (`Components`).
    """
    runner = _method_runner(config, resume)
    if runner is not None:  # another method (e.g. APO) with the same run-directory format
        if components is not None and components.names():
            raise ConfigError("techniques, acceptance rules and schedules given as objects need a TGD recipe")
        return await runner(
            config,
            run_dir=run_dir,
            resume=resume,
            task=task,
            forward_engine=forward_engine,
            backward_engine=backward_engine,
            on_event=on_event,
            stop_after=stop_after,
            cache=cache,
        )
    s = await open_session(
        config,
        run_dir=run_dir,
        resume=resume,
        task=task,
        forward_engine=forward_engine,
        backward_engine=backward_engine,
        on_event=on_event,
        use_cache=cache,
        components=components,
    )
    input_error = False
    try:
        if s.finished and (saved := s.run.read_result()) is not None:
            return FitResult.from_dict(saved)  # resuming a finished run: nothing left to do
        try:
            if s.book.start is None:
                await _start(s)
            while not s.loop_done:
                await _step(s)
                if stop_after is not None and s.step >= stop_after and not s.loop_done:
                    return run_result(s, stopped="requested", message=f"stopped after step {s.step}")
            return await finish_run(s)
        except BudgetExceeded as exc:
            return await end_on_budget(s, exc)
    except MetricError as exc:
        exc.where = exc.where or where_in_run(s)
        raise  # the run folder is kept: its cache holds every answer given so far
    except DlpoError as exc:
        input_error = exc.exit_code == 2  # e.g. a bad API key or unknown model on the first call
        raise
    finally:
        await s.aclose()
        if input_error:
            s.discard_if_unstarted()  # so no half-made run is left for a later --resume to misread


def where_in_run(s: Session) -> str:
    """Where a run is, for an error message: the starting prompt's validation, a step, the test."""
    if s.book.start is None:
        return "the validation of the starting prompt (step 0)"
    if s.loop_done:
        return "the test evaluation"
    return f"step {s.step + 1}"


def _method_runner(config: TrainConfig | None, resume: str | Path | None) -> Any:
    """The runner of a non-TGD method named by the recipe (`dlpo.baselines.method_runner`)."""
    from dlpo.baselines import method_runner

    if config is None and resume is not None:
        from dlpo.runs.run_dir import RunDir

        config = TrainConfig.from_json(RunDir.open(resume).read_config())
    return method_runner(config.recipe.name) if config is not None else None


def fit(config: TrainConfig | None = None, **kwargs: Any) -> FitResult:
    """Synchronous `afit` for scripts and notebooks."""
    return run_sync(afit(config, **kwargs))


async def _start(s: Session) -> None:
    """Step 0: the warm start (when asked), log the setup, validate the starting prompt (a candidate
    for best), checkpoint."""
    c = s.config
    s.prompt.text = await s.warm_start(s.prompt.text)
    s.log.emit(
        "start",
        0,
        task=s.task.name,
        recipe=c.recipe.model_dump(mode="json"),
        **run_options(s),
        prompt=s.prompt.text,
        sizes={
            "train": len(s.train),
            "val": len(s.val),
            "test": len(s.test),
            "acceptance": len(s.acceptance),
        },
        forward=c.forward,
        backward=c.backward,
        seed=c.seed,
    )
    await _validate(s)
    s.log.emit("usage", 0, **usage_payload(s.ledger))
    if s.plan is not None:
        s.plan.begin(s.ledger)
    s.loop_done = _should_stop(s)
    s.checkpoint()


async def _step(s: Session) -> None:
    step = s.step + 1
    batch = [s.train[i] for i in s.sampler.next_batch()]
    loss = await textual_loss(s.forward, s.task, s.prompt, batch, max_tokens=s.config.forward_max_tokens)
    s.log.emit(
        "forward_batch",
        step,
        epoch=s.sampler.epoch,
        loss=loss.value,
        **eval_payload(loss.result, outputs=True),
    )
    if s.config.skip_correct_batches and all(r.score.correct for r in loss.result.results):
        await _end_step(s, step, loss.result.mean, _skipped_decision(s.log, step))
        return
    grad = await loss.backward(
        s.backward,
        critique_max_tokens=s.config.critique_max_tokens,
        reduction_max_tokens=s.config.reduction_max_tokens,
        gradient=s.config.recipe.gradient,
        policy=s.feedback,
        target=getattr(s.optimizer, "next_target", None),  # a program: the prompt this step updates
    )
    s.log.emit("gradient", step, **gradient_payload(grad))
    report = await s.optimizer.step()
    decision = emit_step_events(s.log, report, step)
    for scheduler in s.schedulers:
        scheduler.step(report)
    s.optimizer.zero_grad()
    await _end_step(s, step, loss.result.mean, decision)


def _skipped_decision(log: EventLog, step: int) -> dict[str, Any]:
    """An all-correct batch carries no error to learn from: no critique, no rewrite (the run option
    `skip_correct_batches`). The prompt, the optimizer and the schedules are left as they were."""
    payload = {"accepted": False, "failed": False, "skipped": True, "reason": SKIPPED_REASON}
    payload.update(delta=None, temperature=None, probability=None, score_before=None, score_candidate=None)
    log.emit("decision", step, **payload)
    return payload


async def _end_step(s: Session, step: int, batch_score: float, decision: dict[str, Any]) -> None:
    """Validate (when due), log the step and usage, checkpoint."""
    s.step = step
    done = _should_stop(s)
    val = await _validate(s) if done or step % s.config.eval_every == 0 else None
    s.log.emit(
        "step",
        step,
        epoch=s.sampler.epoch,
        accepted=decision["accepted"],
        failed=decision["failed"],
        skipped=decision.get("skipped", False),
        delta=decision["delta"],
        temperature=decision["temperature"],
        lr=s.optimizer.lr,
        batch_score=batch_score,
        val=val,
        best_val=s.book.best.val if s.book.best else None,
        prompt=s.prompt.text,
    )
    s.log.emit("usage", step, **usage_payload(s.ledger))
    if not done:
        _replan(s, step)
    s.loop_done = done
    s.checkpoint()


def _replan(s: Session, step: int) -> None:
    """Cut the planned steps to what the budget buys (`training.step_plan`); the schedules that
    scale with the run follow, and a "plan" event records the change."""
    change = s.plan.update(s.ledger, step) if s.plan is not None else None
    if change is not None:
        s.optimizer.replan(change["planned_steps"])
        s.log.emit("plan", step, **change)


def _should_stop(s: Session) -> bool:
    c = s.config
    if c.steps is not None and s.step >= c.steps:
        return True
    max_epochs = c.max_epochs
    return max_epochs is not None and s.sampler.at_epoch_end and s.sampler.epoch >= max_epochs


async def _validate(s: Session) -> float:
    result = await evaluate(
        s.forward, s.task, s.prompt.text, s.val, role="validation", max_tokens=s.config.forward_max_tokens
    )
    is_best = s.book.record_validation(s.step, s.prompt.text, result.mean)
    s.log.emit("validation", s.step, split="val", best=is_best, **eval_payload(result))
    return result.mean
