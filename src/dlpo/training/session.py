"""Everything one run holds while it trains: run directory, event log, clients, data, optimizer.

`open_session` builds it (a new run, or a resumed one restored from `checkpoint.json`);
`Session.checkpoint()` writes the state after a step. Kept apart from the loop in `dlpo.train`
so the loop reads as the algorithm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpo.cache import ResponseCache
from dlpo.engines.base import Engine
from dlpo.engines.client import LLMClient
from dlpo.errors import ConfigError
from dlpo.evaluation import evaluate
from dlpo.optim.feedback import FeedbackPolicy
from dlpo.optim.presets import Components, build_optimizer
from dlpo.optim.variable import Prompt
from dlpo.runs.checkpoint import load_checkpoint, save_checkpoint
from dlpo.runs.events import EventCallback, EventLog, read_events, truncate_events
from dlpo.runs.resume import check_config
from dlpo.runs.run_dir import RunDir, default_run_dir
from dlpo.runs.wall import record_resume, run_wall_s
from dlpo.tasks.base import Example, Task
from dlpo.tasks.conventions import task_facts
from dlpo.training.bookkeeping import Bookkeeping
from dlpo.training.config import TrainConfig
from dlpo.training.data import BatchSampler, acceptance_subset
from dlpo.training.step_plan import StepPlan
from dlpo.usage import Budget, Ledger


@dataclass
class Session:
    config: TrainConfig
    run: RunDir
    log: EventLog
    task: Task
    train: list[Example]
    val: list[Example]
    test: list[Example]
    acceptance: list[Example]
    ledger: Ledger
    forward: LLMClient
    backward: LLMClient
    prompt: Prompt
    optimizer: Any  # optim.optimizer.TextualGradientDescent
    schedulers: list[Any]  # optim.schedules.LRScheduler
    sampler: BatchSampler
    book: Bookkeeping = field(default_factory=Bookkeeping)
    step: int = 0
    loop_done: bool = False
    finished: bool = False  # test evaluation done and result.json written
    resumed: bool = False
    owned: list[Engine] = field(default_factory=list)  # engines we built (closed at the end)
    created: bool = False  # this session made the run folder (a new run, not a resume)
    # The feedback switch and the task conventions (from the train split, once per run).
    feedback: FeedbackPolicy = field(default_factory=FeedbackPolicy)
    # The warm start's record (`dlpo.optim.warm_start.WarmStart.to_dict`), None without one.
    warm: dict[str, Any] | None = None
    # The planned optimizer steps, cut to what the budget buys (`dlpo.training.step_plan`).
    plan: StepPlan | None = None

    def discard_if_unstarted(self) -> bool:
        """Remove the run folder this session created if nothing was checkpointed yet (an input
        error on the first calls): it holds no progress, only a config a --resume would reuse."""
        if not self.created or self.run.checkpoint_path.exists():
            return False
        for child in self.run.path.iterdir():
            if child.is_file():
                child.unlink()
        try:
            self.run.path.rmdir()
        except OSError:
            return False
        return True

    def checkpoint(self) -> None:
        save_checkpoint(
            self.run.checkpoint_path,
            {
                "step": self.step,
                "loop_done": self.loop_done,
                "finished": self.finished,
                "prompt": self.prompt.text,
                "sampler": self.sampler.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "schedulers": [s.state_dict() for s in self.schedulers],
                "book": self.book.state_dict(),
                "ledger": self.ledger.state_dict(),
                # Cache rows written so far are counted in that ledger: a resume charges later ones.
                "cache_rows": self.forward.cache.last_row() if self.forward.cache is not None else None,
                "events": self.log.count,
                "warm_start": self.warm,
                "plan": self.plan.state_dict() if self.plan is not None else None,
            },
        )

    def restore(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.loop_done = bool(state["loop_done"])
        self.finished = bool(state.get("finished", False))
        self.sampler.load_state_dict(state["sampler"])
        self.optimizer.load_state_dict(state["optimizer"])
        for sched, s in zip(self.schedulers, state["schedulers"], strict=True):
            sched.load_state_dict(s)
        self.prompt.text = state["prompt"]
        self.book.load_state_dict(state["book"])
        self.ledger.load_state_dict(state["ledger"])
        self.warm = state.get("warm_start")
        if self.plan is not None and state.get("plan"):
            self.plan.load_state_dict(state["plan"])

    async def score(self, prompt: str) -> float:
        """The acceptance-set score of `prompt` (used by score-based acceptance rules)."""
        result = await evaluate(
            self.forward,
            self.task,
            prompt,
            self.acceptance,
            role="acceptance",
            max_tokens=self.config.forward_max_tokens,
        )
        return result.mean

    async def warm_start(self, original: str, *, use: bool = True) -> str:
        """The prompt the run starts from: `original`, or with `warm_start="induce"` the induced
        prompt (`dlpo.optim.warm_start`; run once, recorded in `warm`, the checkpoint and a
        "warm_start" event). `use=False` (human baseline) records the induced prompt only."""
        if self.config.warm_start != "induce":
            return original
        from dlpo.optim.warm_start import WarmStart, warm_start

        if self.warm is None:
            facts = (
                self.feedback.task if self.feedback.task is not None else task_facts(self.task, self.train)
            )
            record = await warm_start(
                forward=self.forward,
                backward=self.backward,
                task=self.task,
                train=self.train,
                val=self.val,
                facts=facts,
                original=original,
                seed=self.config.seed,
                forward_max_tokens=self.config.forward_max_tokens,
                max_prompt_words=self.config.recipe.max_prompt_words,
                use=use,
            )
            self.warm = record.to_dict()
            self.log.emit("warm_start", 0, **self.warm)
        return WarmStart.from_dict(self.warm).start

    async def aclose(self) -> None:
        self.log.close()
        for engine in self.owned:
            await engine.aclose()
        if self.forward.cache is not None:
            self.forward.cache.close()


def _prompt_group(session: Session, components: Components | None) -> Any:
    """A program's prompts, each with its own optimizer (`optim.prompt_group`), updated in turn."""
    import copy

    from dlpo.optim.prompt_group import PromptGroup, steps_per_part
    from dlpo.programs import parse_prompts, render_prompts

    config = session.config
    if config.recipe.name in ("apo", "human") or config.warm_start != "none":
        raise ConfigError(
            "a program's prompts are optimized by the textual-gradient presets, without warm start"
        )
    start = parse_prompts(session.prompt.text)
    steps = planned_steps(config, len(session.train))
    parts: dict[str, tuple[Prompt, Any, list[Any]]] = {}
    for index, name in enumerate(start):
        part = Prompt(
            start[name], role_description=f"system prompt of the '{name}' call of a multi-step program"
        )

        async def score(candidate: str, name: str = name) -> float:
            group = session.optimizer
            return await session.score(render_prompts({**group.current(), name: candidate}))

        opt, schedulers = build_optimizer(
            config.recipe,
            part,
            session.backward,
            score_fn=score,
            seed=config.seed * 1000 + index,
            planned_steps=steps_per_part(steps, len(start)),
            components=copy.deepcopy(components),
            update_format=config.update_format,
        )
        parts[name] = (part, opt, schedulers)
    return PromptGroup(session.prompt, parts)


def _bind_judge(
    task: Task,
    config: TrainConfig,
    forward: LLMClient,
    backward: LLMClient,
    ledger: Ledger,
    cache: ResponseCache | None,
) -> list[Engine]:
    """A metric that calls a model (an `LLMJudge`) gets a client with the run's cache and ledger, on
    the run's own engine when it names the same spec (no second server); returns engines to close."""
    metric = task.metric
    spec = getattr(metric, "engine", None)
    if metric is None or not callable(getattr(metric, "bind", None)) or not spec:
        return []
    from dlpo.engines.spec import build_engine, parse_engine_spec

    owned: list[Engine] = []
    if spec in ("local", config.backward):
        engine = backward.engine
    elif spec == config.forward:
        engine = forward.engine
    else:
        engine = build_engine(
            parse_engine_spec(spec, role="backward", **config.engine.given()), role="backward"
        )
        owned.append(engine)
    metric.bind(LLMClient(engine, cache=cache, ledger=ledger))
    return owned


def planned_steps(config: TrainConfig, n_train: int) -> int:
    """The optimizer steps the run plans: `steps`, or epochs x batches per epoch (the smaller when
    both are set)."""
    per_epoch = max(1, math.ceil(n_train / config.batch_size))
    by_epochs = config.max_epochs * per_epoch if config.max_epochs is not None else None
    options = [v for v in (config.steps, by_epochs) if v is not None]
    return min(options) if options else per_epoch


def _limit(examples: Sequence[Example], n: int | None) -> list[Example]:
    return list(examples if n is None else examples[:n])


def _load_task(config: TrainConfig) -> Task:
    from dlpo.tasks.registry import load_task

    return load_task(config.task, **config.task_options)


def _check_specs(config: TrainConfig, forward_engine: Engine | None, backward_engine: Engine | None) -> None:
    """Refuse a bad engine spec before the run folder is created."""
    from dlpo.engines.spec import parse_engine_spec

    settings = config.engine.given()
    if forward_engine is None:
        parse_engine_spec(config.forward, role="forward", **settings)
    if backward_engine is None:
        parse_engine_spec(config.backward, role="backward", **settings)


def _counted_rows(cache: ResponseCache, state: dict[str, Any] | None) -> int:
    """The cache rows the run's ledger has counted when it opens: none for a new run or a replay
    from the start (no checkpoint); those the checkpoint recorded for a resume. A checkpoint from
    before this record charges nothing it finds (every row counts as counted)."""
    if state is None:
        return 0
    rows = state.get("cache_rows")
    return int(rows) if rows is not None else cache.last_row()


def _build_clients(
    config: TrainConfig,
    ledger: Ledger,
    cache: ResponseCache | None,
    forward_engine: Engine | None,
    backward_engine: Engine | None,
) -> tuple[LLMClient, LLMClient, list[Engine]]:
    """Forward and backward clients sharing one ledger and one cache. Engines we build ourselves
    are closed at the end; a spec used for both roles loads its model once."""
    owned: list[Engine] = []
    if forward_engine is None or backward_engine is None:
        from dlpo.engines.spec import build_engine, parse_engine_spec, same_engine

        def build(spec: str, role: str) -> Engine:
            return build_engine(parse_engine_spec(spec, role=role, **config.engine.given()), role=role)

        if forward_engine is None:
            forward_engine = build(config.forward, "forward")
            owned.append(forward_engine)
        if backward_engine is None:
            same = bool(owned) and same_engine(config.forward, config.backward)
            backward_engine = forward_engine if same else build(config.backward, "backward")
            if not same:
                owned.append(backward_engine)
    forward = LLMClient(forward_engine, cache=cache, ledger=ledger)
    backward = LLMClient(backward_engine, cache=cache, ledger=ledger)
    return forward, backward, owned


async def open_session(
    config: TrainConfig | None,
    *,
    run_dir: str | Path | None,
    resume: str | Path | None,
    task: Task | None,
    forward_engine: Engine | None,
    backward_engine: Engine | None,
    on_event: EventCallback | None,
    use_cache: bool,
    components: Components | None = None,
) -> Session:
    state = None
    given = (components or Components()).names()
    if resume is not None:
        run = RunDir.open(resume)
        saved = TrainConfig.from_json(run.read_config())  # an old config.json gains the run options
        config = saved if config is None else config.model_copy(update={"components": given})
        if saved.components != given:
            raise ConfigError(
                f"{run.path}: the run was made with the optimizer parts {saved.components or 'none'} given "
                f"as objects, now {given or 'none'}: pass the same ones again to resume it"
            )
        check_config(saved.to_json(), config.to_json(), where=str(run.path))
        state = load_checkpoint(run.checkpoint_path)
    elif config is None:
        raise ConfigError("fit needs a TrainConfig (or resume=<run dir>)")
    else:
        config = config.model_copy(update={"components": given})
    # Bad specs and tasks fail before a new run folder is created.
    _check_specs(config, forward_engine, backward_engine)
    task = task if task is not None else _load_task(config)
    if task.program is not None and config.recipe.name == "apo":
        raise ConfigError(
            "APO optimizes one system prompt: a program's prompts need a textual-gradient preset"
        )
    train = _limit(task.train, config.train_limit)
    if not train:
        raise ConfigError(f"task {task.name!r} has no training examples")
    if resume is not None:
        kept = int(state["events"]) if state else 0
        # a resume that empties the log carries the emptied log's working time (`dlpo.runs.wall`)
        carried = run_wall_s(run.path, read_events(run.events_path)) if kept == 0 else None
        truncate_events(run.events_path, kept)
        record_resume(run.path, kept, carried_s=carried)
    else:
        path = run_dir if run_dir is not None else default_run_dir(task.name, config.recipe.name)
        run = RunDir.create(path, config.to_json())
    ledger = Ledger(budget=Budget(**config.budget.limits()))
    cache = ResponseCache(run.cache_path) if use_cache else None
    if cache is not None:
        ledger.replay_after = _counted_rows(cache, state)
    forward, backward, owned = _build_clients(config, ledger, cache, forward_engine, backward_engine)
    owned += _bind_judge(task, config, forward, backward, ledger, cache)
    prompt = Prompt(task.initial_prompt)
    session = Session(
        config=config,
        run=run,
        log=EventLog(run.events_path, on_event=on_event),
        task=task,
        train=train,
        val=_limit(task.val, config.val_limit),
        test=_limit(task.test, config.test_limit),
        acceptance=[train[i] for i in acceptance_subset(len(train), config.acceptance_set, config.seed)],
        ledger=ledger,
        forward=forward,
        backward=backward,
        prompt=prompt,
        optimizer=None,
        schedulers=[],
        sampler=BatchSampler(len(train), config.batch_size, config.seed),
        owned=owned,
        created=resume is None,
        feedback=FeedbackPolicy(config.feedback, task_facts(task, train)),
        plan=StepPlan(planned_steps(config, len(train))),
    )
    if task.program is not None:
        session.optimizer = _prompt_group(session, components)
    else:
        session.optimizer, session.schedulers = build_optimizer(
            config.recipe,
            prompt,
            backward,
            score_fn=session.score,
            seed=config.seed,
            planned_steps=planned_steps(config, len(train)),
            components=components,
            update_format=config.update_format,
        )
    if state is not None:
        session.restore(state)
        session.resumed = True
    return session
