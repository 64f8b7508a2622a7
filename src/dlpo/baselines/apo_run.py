"""`afit_apo`: APO as a method of `fit` (recipe name "apo"), with the same run directory format.

The run folder, clients, cache, ledger, budget and splits come from `dlpo.training.session`; the
events are those of `fit` (start, validation, forward_batch, gradient, candidate, decision, step,
usage, test, result) plus `apo_expansion` (per parent: the ids of the round's shared minibatch,
gradients, edits, paraphrases of the edits and of the parent, successors, rejected candidates) and
`apo_selection`, so reports and sweeps read an APO run like any other. After each round the best
prompt of the beam is validated (best-validation and last prompts are tracked as in `fit`); at the
end start, best and last are tested.

Resume: an APO run is replayed from its start against the run's response cache (every finished
call is a cache hit and the seeded RNG takes the same path), so a killed run ends where an
uninterrupted one would; a finished run returns its saved result. A run folder written before the
ProTeGi fixes (one minibatch per round, parent paraphrases, UCB over rounds) still loads and its
result is read as saved; resuming an unfinished one replays it with the current search, so only the
requests both versions make are cache hits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlpo.baselines.apo import APO, ApoOptions
from dlpo.engines.base import Engine
from dlpo.errors import BudgetExceeded, ConfigError
from dlpo.evaluation import evaluate
from dlpo.runs.events import EventCallback
from dlpo.tasks.base import Task
from dlpo.tasks.metric import MetricError
from dlpo.training.config import TrainConfig
from dlpo.training.records import eval_payload, run_options, usage_payload
from dlpo.training.result import end_on_budget, finish_run, run_result
from dlpo.training.session import Session, open_session

DEFAULT_ROUNDS = 6  # the paper's search depth


def apo_recipe() -> Any:
    from dlpo.optim.presets import Recipe

    return Recipe(name="apo", techniques=[])


async def afit_apo(
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
) -> Any:
    from dlpo.training.result import FitResult

    if config is not None and config.recipe.techniques:
        raise ConfigError(f"recipe 'apo' takes no techniques (got {config.recipe.techniques})")
    if resume is not None:
        from dlpo.runs.run_dir import RunDir

        saved = RunDir.open(resume).read_result()
        if saved is not None:
            return FitResult.from_dict(saved)
    s = await open_session(
        config,
        run_dir=run_dir,
        resume=resume,
        task=task,
        forward_engine=forward_engine,
        backward_engine=backward_engine,
        on_event=on_event,
        use_cache=cache,
    )
    if s.resumed:  # no mid-run checkpoints: replay from the start against the cache
        from dlpo.runs.events import truncate_events

        truncate_events(s.run.events_path, 0)
        s.log.close()
        from dlpo.runs.events import EventLog

        s.log = EventLog(s.run.events_path, on_event=on_event)
        s.warm = None  # replayed (its calls are cache hits) and logged again
    options = ApoOptions.build(s.config.method_options)
    rounds = s.config.steps or DEFAULT_ROUNDS
    try:
        try:
            apo = APO(
                s.task,
                s.train,
                s.forward,
                s.backward,
                options,
                seed=s.config.seed,
                start=await s.warm_start(s.task.initial_prompt),
                forward_max_tokens=s.config.forward_max_tokens,
                max_prompt_words=s.config.recipe.max_prompt_words,
                feedback=s.feedback,
                skip_correct_batches=s.config.skip_correct_batches,
            )
            s.log.emit(
                "start",
                0,
                task=s.task.name,
                recipe=s.config.recipe.model_dump(mode="json"),
                **run_options(s),
                method="apo",
                options=options.model_dump(),
                prompt=apo.beam[0],
                sizes={"train": len(s.train), "val": len(s.val), "test": len(s.test), "acceptance": 0},
                forward=s.config.forward,
                backward=s.config.backward,
                seed=s.config.seed,
            )
            await _validate(s, apo.beam[0])
            s.log.emit("usage", 0, **usage_payload(s.ledger))
            while s.step < rounds:
                await _round(s, apo)
                if stop_after is not None and s.step >= stop_after and s.step < rounds:
                    return run_result(s, stopped="requested", message=f"stopped after round {s.step}")
            return await finish_run(s)
        except BudgetExceeded as exc:
            return await end_on_budget(s, exc)
    except MetricError as exc:
        from dlpo.train import where_in_run

        exc.where = exc.where or where_in_run(s)
        raise
    finally:
        await s.aclose()


async def _round(s: Session, apo: APO) -> None:
    step = s.step + 1
    before = apo.beam[0]
    expansions, candidates, selection = await apo.round()
    for k, e in enumerate(expansions):
        s.log.emit(
            "apo_expansion",
            step,
            parent_rank=k,
            parent=e.parent,
            batch_score=e.batch_score,
            examples=e.examples,
            gradients=e.gradients,
            edits=e.edits,
            paraphrases=e.paraphrases,
            parent_paraphrases=e.parent_paraphrases,
            successors=e.successors,
            rejected=e.rejected,
        )
    s.log.emit(
        "apo_selection",
        step,
        candidates=candidates,
        kept=selection.kept,
        evaluations=selection.evaluations,
        means=[round(st.mean, 4) for st in selection.stats],
        pulls=[st.n for st in selection.stats],
        trace=selection.trace,
        beam=apo.beam,
    )
    head = expansions[0]
    s.log.emit("forward_batch", step, loss=1.0 - head.batch_score, score=head.batch_score)
    s.log.emit(
        "gradient",
        step,
        text="\n".join(head.gradients),
        critiques=head.gradients,
        batch_score=head.batch_score,
    )
    s.log.emit("candidate", step, candidate=apo.beam[0], raw_replies=[], failed=False, parse=None)
    changed = apo.beam[0] != before
    s.log.emit(
        "decision",
        step,
        accepted=changed,
        failed=False,
        reason="bandit selection",
        delta=None,
        temperature=None,
        probability=None,
        score_before=None,
        score_candidate=selection.stats[selection.kept[0]].mean if selection.kept else None,
    )
    s.step = step
    val = await _validate(s, apo.beam[0])
    s.log.emit(
        "step",
        step,
        epoch=None,
        accepted=changed,
        failed=False,
        delta=None,
        temperature=None,
        lr=None,
        batch_score=head.batch_score,
        val=val,
        best_val=s.book.best.val if s.book.best else None,
        prompt=apo.beam[0],
        beam=apo.beam,
    )
    s.log.emit("usage", step, **usage_payload(s.ledger))


async def _validate(s: Session, prompt: str) -> float:
    s.prompt.text = prompt
    result = await evaluate(
        s.forward, s.task, prompt, s.val, role="validation", max_tokens=s.config.forward_max_tokens
    )
    is_best = s.book.record_validation(s.step, prompt, result.mean)
    s.log.emit("validation", s.step, split="val", best=is_best, **eval_payload(result))
    return result.mean
