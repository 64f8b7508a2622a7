"""The task contract: examples, splits, the answer-format instruction and a scorer with reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Example:
    id: str
    input: str
    target: str
    metadata: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Score:
    """The score of one model output: `value` in [0, 1], the extracted `answer` (None when nothing
    could be extracted) and a short, specific `reason` ("answered 42, expected 48"). The reason is
    shown to the backward model, so it must say what went wrong."""

    value: float
    answer: str | None
    reason: str

    @property
    def correct(self) -> bool:
        return self.value >= 1.0


@runtime_checkable
class Scorer(Protocol):
    """Extracts the answer from a model output and compares it with the target."""

    name: str

    def __call__(self, output: str, target: str) -> Score: ...


@dataclass
class Task:
    """A prompt-optimization task.

    The model sees `format_input(example)`: the example's input followed by `answer_instruction`.
    The system prompt being optimized is separate; `initial_prompt` is where optimization starts.
    """

    name: str
    train: list[Example]
    val: list[Example]
    test: list[Example]
    scorer: Scorer
    answer_instruction: str = ""
    initial_prompt: str = ""
    description: str = ""
    source: str = ""
    # What kind of answer the scorer expects ("numeric", "choice", "label", "exact", "math"); for
    # listings and reports. Optional, added after the first contract.
    answer_type: str = ""
    # The best known hand-written prompt, when the task has one (the `human:reference` baseline).
    reference_prompt: str = ""
    # A user metric `metric(output, example) -> float | bool | Score` (sync or async) that replaces
    # the scorer; see `dlpo.tasks.metric` for its failures (`on_error`, `metric_timeout` seconds).
    metric: Any = None
    on_error: str = "raise"
    metric_timeout: float = 60.0
    # A program `program(prompts, example, llm) -> str` that calls the forward model with named
    # prompts (`dlpo.programs`); `initial_prompt` then holds every prompt (`render_prompts`).
    program: Any = None
    program_timeout: float = 900.0

    @property
    def prompt_names(self) -> list[str]:
        """The names of the prompts being optimized (["system"] for a plain task)."""
        if self.program is None:
            return ["system"]
        from dlpo.programs import parse_prompts

        return list(parse_prompts(self.initial_prompt))

    @classmethod
    def from_records(
        cls,
        records: Any,
        *,
        input: str = "input",  # the column names, as users call them
        target: str = "target",
        metric: Any = None,
        scorer: str = "exact",
        id: str | None = None,
        split: str | None = None,
        sizes: Any = None,
        seed: int = 0,
        prompt: str | None = None,
        answer_instruction: str | None = None,
        name: str = "records",
        on_error: str = "raise",
        metric_timeout: float = 60.0,
        program: Any = None,
        prompts: dict[str, str] | None = None,
    ) -> Task:
        """A task from rows: a list of dicts, a pandas DataFrame, or a Hugging Face `Dataset` /
        `DatasetDict` (its train/validation/test splits are kept). `input`/`target` name the
        columns; `metric(output, example) -> float | bool | Score` scores answers (else `scorer`, a
        built-in scorer name); `split` names a column holding train/val/test; otherwise rows are
        shuffled with `seed` and cut by `sizes` (train, val, test; default 30% / 20% / rest).
        `prompt` is the starting prompt (default "You will answer a question."); with a metric the
        answer instruction defaults to none (the prompt must say how to answer). `program` with
        `prompts` (name -> starting text) optimizes several prompts of a multi-call program
        (`dlpo.programs`)."""
        from dataclasses import replace

        from dlpo.tasks.files import build_task
        from dlpo.tasks.metric import ON_ERROR
        from dlpo.tasks.records import as_rows

        if on_error not in ON_ERROR:
            from dlpo.errors import ConfigError

            raise ConfigError(f"on_error {on_error!r}: use one of {', '.join(ON_ERROR)}")
        rows, split_col = as_rows(records, split)
        if not rows:
            from dlpo.errors import DataError

            raise DataError(f"{name}: no records")
        task = build_task(
            rows,
            where=name,
            input_col=input,
            target_col=target,
            id_col=id,
            scorer=scorer,
            answer_instruction=""
            if metric is not None and answer_instruction is None
            else answer_instruction,
            split_col=split_col,
            split_sizes=sizes,
            seed=seed,
            initial_prompt=prompt,
            name=name,
            description=f"{len(rows)} records given in Python",
            source="records",
            scored_by_metric=metric is not None,
        )
        task = replace(task, metric=metric, on_error=on_error, metric_timeout=metric_timeout)
        if program is None and prompts is None:
            return task
        return task.with_program(program, prompts or {})

    def with_program(self, program: Any, prompts: dict[str, str]) -> Task:
        """This task answered by `program` with the named starting `prompts` (no answer
        instruction is appended: the program writes the model's input itself)."""
        from dataclasses import replace

        from dlpo.errors import ConfigError
        from dlpo.programs import check_prompts, render_prompts

        if not callable(program):
            raise ConfigError("program must be a function program(prompts, example, llm) -> str")
        return replace(
            self,
            program=program,
            initial_prompt=render_prompts(check_prompts(prompts)),
            answer_instruction="",
        )

    @property
    def scorer_name(self) -> str:
        """The scorer's name, e.g. "numeric" (strict) or "reference:gsm8k" (the paper's lenient rule);
        reports print it so numbers say which scoring they used."""
        return getattr(self.scorer, "name", type(self.scorer).__name__)

    def format_input(self, example: Example) -> str:
        if not self.answer_instruction:
            return example.input
        return f"{example.input}\n\n{self.answer_instruction}"

    def score(self, output: str, example: Example) -> Score:
        """The scorer's score (synchronous; a task with a user metric is scored with `ascore`)."""
        if self.metric is not None:
            from dlpo.engines.base import run_sync

            return run_sync(self.ascore(output, example))
        return self.scorer(output, example.target)

    async def ascore(self, output: str, example: Example) -> Score:
        """The score of `output`: the user metric's when there is one, else the scorer's."""
        if self.metric is None:
            return self.scorer(output, example.target)
        from dlpo.tasks.metric import score_with_metric

        return await score_with_metric(
            self.metric,
            output,
            example,
            timeout=self.metric_timeout,
            on_error=self.on_error,  # type: ignore[arg-type]
        )

    def split(self, name: str) -> list[Example]:
        if name not in ("train", "val", "test"):
            raise ValueError(f"unknown split {name!r}; expected train, val or test")
        return getattr(self, name)
