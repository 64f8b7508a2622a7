"""`dlpo evaluate`: score a prompt (given, from a file, or a run's start/best/last) on a task split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dlpo.errors import ConfigError

HELP = """Score a prompt on a task's split with a forward model.

The prompt is --prompt TEXT, --prompt-file FILE, or a run's start / best / last prompt (--run DIR --which best); with none of them, the task's own starting prompt. With --run the task, forward model and answer cap default to the run's; --forward evaluates the prompt on another model. Nothing is written to the run.

Examples:

  dlpo evaluate --run runs/demo-dlpo --which best --split test

  dlpo evaluate --run runs/demo-dlpo --forward local:qwen2.5-1.5b --limit 20

  dlpo evaluate --task gsm8k --prompt "Solve step by step." --split val --limit 50

  dlpo evaluate --task-file my.jsonl --prompt-file prompt.txt --output answers.jsonl
"""

Opt = typer.Option
SPLITS = ("train", "val", "test")
WHICH = ("best", "last", "start")


def evaluate(
    task: Annotated[str | None, Opt("--task", help="Built-in task (see `dlpo tasks`).")] = None,
    task_file: Annotated[Path | None, Opt("--task-file", help="Your own task: .jsonl or .csv.")] = None,
    input_col: Annotated[str | None, Opt("--input-col", help="Input column of --task-file.")] = None,
    target_col: Annotated[str | None, Opt("--target-col", help="Target column of --task-file.")] = None,
    data_dir: Annotated[Path | None, Opt("--data-dir", help="Benchmark data folder.")] = None,
    prompt: Annotated[str | None, Opt("--prompt", help="The prompt text.")] = None,
    prompt_file: Annotated[Path | None, Opt("--prompt-file", help="A file holding the prompt.")] = None,
    run: Annotated[Path | None, Opt("--run", help="Take the prompt (and defaults) from this run.")] = None,
    which: Annotated[str, Opt("--which", help="With --run: best, last or start.")] = "best",
    split: Annotated[str, Opt("--split", help="train, val or test.")] = "test",
    forward: Annotated[str | None, Opt("--forward", help="Forward engine spec.")] = None,
    limit: Annotated[int | None, Opt("--limit", help="Only the first N examples of the split.")] = None,
    max_tokens: Annotated[int | None, Opt("--max-tokens", help="Cap on each answer.")] = None,
    output: Annotated[Path | None, Opt("--output", help="Write each example's answer as JSONL.")] = None,
) -> None:
    from dlpo.engines import spec as engine_spec
    from dlpo.engines.base import run_sync

    if split not in SPLITS:
        raise ConfigError(f"--split: unknown split {split!r}; allowed: {', '.join(SPLITS)}")
    if which not in WHICH:
        raise ConfigError(f"--which: unknown value {which!r}; allowed: {', '.join(WHICH)}")
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit: must be a positive number of examples (got {limit})")
    if max_tokens is not None and max_tokens < 1:
        raise ConfigError(f"--max-tokens: must be > 0 (got {max_tokens})")
    sources = [
        name for name, v in (("--prompt", prompt), ("--prompt-file", prompt_file), ("--run", run)) if v
    ]
    if len(sources) > 1:
        raise ConfigError(f"give one prompt source, not {' and '.join(sources)}")
    run_config: dict[str, Any] = {}
    label = "the task's starting prompt"
    if run is not None:
        text, step, run_config = _prompt_from_run(run, which)
        label = f"{which} prompt of {run} (step {step})"
    elif prompt_file is not None:
        if not prompt_file.is_file():
            raise ConfigError(f"--prompt-file: {prompt_file} does not exist")
        text, label = prompt_file.read_text(encoding="utf-8").strip(), str(prompt_file)
    else:
        text = prompt
        if text is not None:
            label = "--prompt"
    the_task = _load(task, task_file, input_col, target_col, data_dir, run_config)
    if text is None:
        text = the_task.initial_prompt
    if not text.strip():
        raise ConfigError("the prompt is empty")
    spec = forward or run_config.get("forward") or engine_spec.DEFAULT_FORWARD
    engine_spec.parse_engine_spec(spec, role="forward")
    from dlpo.evaluation import DEFAULT_FORWARD_MAX_TOKENS

    cap = max_tokens or run_config.get("forward_max_tokens") or DEFAULT_FORWARD_MAX_TOKENS
    examples = the_task.split(split)[:limit] if limit else the_task.split(split)
    if not examples:
        raise ConfigError(f"task {the_task.name!r} has no {split} examples")
    result, usage = run_sync(
        _evaluate(engine_spec.build_engine(spec, role="forward"), the_task, text, examples, cap)
    )
    if output is not None:
        _write_outputs(output, result)
    _print(the_task.name, split, spec, label, result, usage, cap)


def _prompt_from_run(run: Path, which: str) -> tuple[str, int, dict[str, Any]]:
    from dlpo.report.load import load_run

    data = load_run(run)
    found = data.prompt_at(which)
    if found is None:
        raise ConfigError(f"{run}: the run has no {which} prompt yet (unfinished); use --which last or start")
    return found[0], found[1], data.config


def _load(task, task_file, input_col, target_col, data_dir, run_config):  # type: ignore[no-untyped-def]
    from dlpo.tasks.registry import load_task

    if task and task_file:
        raise ConfigError("give either --task or --task-file, not both")
    if (input_col or target_col) and not task_file:
        raise ConfigError("--input-col/--target-col need --task-file")
    if task_file is not None:
        opts = {"input_col": input_col or "input", "target_col": target_col or "target"}
        return load_task(f"file:{task_file.expanduser().resolve()}", **opts)
    if task is not None:
        return load_task(task, **({"data_dir": str(data_dir)} if data_dir else {}))
    if run_config:
        opts = dict(run_config.get("task_options") or {})
        if data_dir:
            opts["data_dir"] = str(data_dir)
        return load_task(run_config["task"], **opts)
    raise ConfigError("say what to evaluate on: --task NAME, --task-file FILE or --run DIR")


async def _evaluate(engine, task, prompt, examples, max_tokens):  # type: ignore[no-untyped-def]
    from dlpo.engines.client import LLMClient
    from dlpo.evaluation import evaluate

    client = LLMClient(engine)
    try:
        result = await evaluate(client, task, prompt, examples, role="forward", max_tokens=max_tokens)
    finally:
        await engine.aclose()
    return result, client.ledger.total()


def _write_outputs(path: Path, result: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in result.results:
            row = {
                "id": r.example.id,
                "input": r.example.input,
                "target": r.example.target,
                "output": r.output,
                "answer": r.score.answer,
                "score": r.score.value,
                "reason": r.score.reason,
                "finish_reason": r.finish_reason,  # "length": cut off at --max-tokens
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _print(task: str, split: str, spec: str, label: str, result: Any, usage: Any, cap: int) -> None:
    from rich.console import Console

    from dlpo.report.cut_off import cut_off_sentence

    console = Console(soft_wrap=True)
    correct = sum(1 for s in result.scores() if s >= 1.0)
    console.print(f"task {task}, split {split} ({result.n} examples), forward {spec}")
    console.print(f"prompt: {label}")
    console.print(f"[bold]accuracy {result.mean:.3f}[/] ({correct}/{result.n} fully correct)")
    if result.cut_off:
        console.print(cut_off_sentence(result.cut_off, result.n, cap, "answers"), markup=False)
    console.print(f"model calls {usage.calls}, tokens {usage.prompt_tokens + usage.completion_tokens}")


def register(app: typer.Typer) -> None:
    app.command("evaluate", help=HELP)(evaluate)
