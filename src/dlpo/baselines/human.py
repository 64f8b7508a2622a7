"""Human-prompt baseline: evaluate given prompts on the validation and test splits.

A prompt is named or given verbatim (`method_options: {prompt: ...}`):

- `start`     the task's starting prompt (what every optimizer starts from);
- `cot`       a plain chain-of-thought prompt (Kojima et al. 2022's "Let's think step by step");
- `bbh-cot`   BBH's own few-shot CoT prompt, `<data dir>/bbh/cot-prompts/<task>.txt` (bbh tasks only;
              canary header removed), used as the system prompt;
- `reference` the task's best known hand-written prompt (`Task.reference_prompt`; e.g. `tickets`);
- `text:...`  any other prompt, verbatim.

As a method of `fit` (recipe name "human") a run writes the usual run folder; its start, best and
last prompts are all the evaluated prompt, so sweep tables treat it like any other method.

Warm start (`TrainConfig.warm_start="induce"`): the human baseline evaluates the prompt it is given,
so it does not start from the induced prompt; it induces one as every method does and scores it on
the same validation and test splits, recorded beside the given prompt in `result.warm_start` (the
given prompt as "original"). So a human run with a warm start also measures induction alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlpo.engines.base import Engine
from dlpo.errors import ConfigError
from dlpo.evaluation import evaluate
from dlpo.runs.events import EventCallback
from dlpo.tasks.base import Task
from dlpo.training.config import TrainConfig
from dlpo.training.records import eval_payload, run_options, usage_payload
from dlpo.training.session import open_session

COT_PROMPT = "Let's think step by step."
NAMED = ("start", "cot", "bbh-cot", "reference")


async def _score_induced(s: Any, given_test: float) -> None:
    """With a warm start: the induced prompt's validation and test scores, beside the given prompt's."""
    if s.warm is None:
        return
    s.warm["original"]["test"] = given_test
    induced = s.warm.get("induced")
    if induced is None:
        return
    mt = s.config.forward_max_tokens
    for split, examples in (("val", s.val), ("test", s.test)):
        role = "validation" if split == "val" else "test"
        result = await evaluate(s.forward, s.task, induced["prompt"], examples, role=role, max_tokens=mt)
        induced[split] = result.mean
        s.log.emit("warm_start_eval", 0, which="induced", split=split, **eval_payload(result))


def human_recipe() -> Any:
    from dlpo.optim.presets import Recipe

    return Recipe(name="human", techniques=[])


def bbh_cot_prompt(task_name: str, data_dir: str | Path | None = None) -> str:
    """BBH's few-shot CoT prompt for `bbh:<task>` (the file's canary header removed)."""
    from dlpo.tasks import datadir

    parts = task_name.split(":")
    if len(parts) < 2 or parts[0] != "bbh":
        raise ConfigError(f"prompt 'bbh-cot' needs a bbh:<task> task, not {task_name!r}")
    rel = f"bbh/cot-prompts/{parts[1]}.txt"
    root = datadir.resolve("bbh", (rel,), data_dir)
    if root.path is None:
        raise ConfigError(f"prompt 'bbh-cot': {rel} is only read from a data folder (set $DLPO_DATA_DIR)")
    text = (root.path / rel).read_text(encoding="utf-8")
    if text.lstrip().startswith("BENCHMARK DATA") and "-----" in text:
        text = text.split("-----", 1)[1]  # the canary header
    return text.strip()


def resolve_prompt(spec: str, task: Task, task_name: str, data_dir: str | Path | None = None) -> str:
    """The text of a named (`start`, `cot`, `bbh-cot`) or verbatim (`text:...`) prompt."""
    if spec == "start":
        return task.initial_prompt
    if spec == "cot":
        return COT_PROMPT
    if spec == "bbh-cot":
        return bbh_cot_prompt(task_name, data_dir)
    if spec == "reference":
        if not task.reference_prompt:
            raise ConfigError(f"prompt 'reference': task {task_name!r} has no reference prompt")
        return task.reference_prompt
    if spec.startswith("text:"):
        return spec[5:]
    raise ConfigError(f"unknown human prompt {spec!r}; use one of {', '.join(NAMED)} or 'text:<prompt>'")


async def afit_human(
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
    """Evaluate one human prompt (`config.method_options["prompt"]`, default "start")."""
    from dlpo.training.result import FitResult, PromptScore

    if resume is not None:
        from dlpo.runs.run_dir import RunDir

        saved = RunDir.open(resume).read_result()
        if saved is not None:
            return FitResult.from_dict(saved)
        raise ConfigError(f"{resume}: an unfinished human-prompt run; delete it and run again")
    if config is None:
        raise ConfigError("the human baseline needs a TrainConfig")
    unknown = set(config.method_options) - {"prompt"}
    if unknown:
        raise ConfigError(f"human baseline: unknown option(s) {sorted(unknown)}; allowed: prompt")
    s = await open_session(
        config,
        run_dir=run_dir,
        resume=None,
        task=task,
        forward_engine=forward_engine,
        backward_engine=backward_engine
        if config.warm_start == "induce"
        else forward_engine or backward_engine,
        on_event=on_event,
        use_cache=cache,
    )
    try:
        spec = str(config.method_options.get("prompt", "start"))
        prompt = resolve_prompt(spec, s.task, config.task, config.task_options.get("data_dir"))
        s.log.emit(
            "start",
            0,
            task=s.task.name,
            recipe=config.recipe.model_dump(mode="json"),
            method="human",
            human_prompt=spec,
            prompt=prompt,
            sizes={"train": len(s.train), "val": len(s.val), "test": len(s.test), "acceptance": 0},
            forward=config.forward,
            backward=config.backward if config.warm_start == "induce" else None,
            seed=config.seed,
            **run_options(s),
        )
        mt = config.forward_max_tokens
        await s.warm_start(prompt, use=False)
        val = await evaluate(s.forward, s.task, prompt, s.val, role="validation", max_tokens=mt)
        s.log.emit("validation", 0, split="val", best=True, **eval_payload(val))
        test = await evaluate(s.forward, s.task, prompt, s.test, role="test", max_tokens=mt)
        for which in ("start", "best", "last"):
            s.log.emit("test", 0, which=which, prompt_step=0, split="test", **eval_payload(test))
        await _score_induced(s, test.mean)
        s.log.emit("usage", 0, **usage_payload(s.ledger))
        score = PromptScore(prompt, 0, val.mean, test.mean)
        result = FitResult(
            run_dir=s.run.path,
            steps=0,
            start=score,
            best=score,
            last=score,
            usage=usage_payload(s.ledger),
            warm_start=s.warm,
        )
        s.run.write_result(result.to_dict())
        s.log.emit(
            "result", 0, best_prompt=prompt, start_test=test.mean, best_test=test.mean, last_test=test.mean
        )
        return result
    finally:
        await s.aclose()
