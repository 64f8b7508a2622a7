"""The experiment file: methods x tasks x seeds x engines, with shared training settings.

    name: compare_demo
    tasks: [demo]                      # or {name: bbh:object_counting, options: {...}}
    seeds: [0, 1, 2]
    engines: [{forward: local:qwen2.5-0.5b, backward: local:qwen2.5-0.5b}]
    methods:
      - tgd                            # a preset of the textual-gradient loop
      - apo                            # APO/ProTeGi (options below), or human / human:cot / human:bbh-cot
      - {name: apo-small, method: apo, options: {minibatch: 6, n_gradients: 2}}
      - {name: dlpo-no-tsa, techniques: [tlrd, tcl, tregu]}
    train: {steps: 2, batch_size: 3, val_limit: 8, test_limit: 12}   # TrainConfig fields
    compare: [[dlpo, tgd]]             # paired statistics (default: every pair)
    transfer: {tasks: [biggsm], forwards: [local:qwen2.5-1.5b], test_limit: 20}
    runner: {workers: 1, num_cpus: 1}

Unknown keys are errors that name the key and the allowed ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dlpo.errors import ConfigError

METHOD_KINDS = ("tgd", "apo", "human")  # tgd = the textual-gradient loop (any preset/techniques)


class MethodSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    method: Literal["tgd", "apo", "human"] = "tgd"
    preset: str | None = None
    techniques: list[str] | None = None
    recipe: dict[str, Any] = Field(default_factory=dict)  # recipe field overrides (lr, dropout, ...)
    options: dict[str, Any] = Field(default_factory=dict)  # method options (APO knobs)
    prompt: str | None = None  # human: start, cot, bbh-cot or text:...
    train: dict[str, Any] = Field(default_factory=dict)  # per-method TrainConfig overrides

    @model_validator(mode="after")
    def _check(self) -> MethodSpec:
        if self.method != "tgd" and (self.preset or self.techniques or self.recipe):
            raise ValueError(f"method {self.name!r}: preset/techniques/recipe only apply to method 'tgd'")
        if self.method != "human" and self.prompt is not None:
            raise ValueError(f"method {self.name!r}: 'prompt' only applies to method 'human'")
        if self.method == "tgd" and self.preset is None and self.techniques is None:
            self.preset = self.name
        return self


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)


class EnginePair(BaseModel):
    """The forward and backward engines of a sweep's trials (spec strings), under a short label.
    How the engines make calls is set by the experiment's `train: {engine: ...}` (EngineSettings)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    forward: str
    backward: str | None = None  # default: the forward engine

    @property
    def label(self) -> str:
        return self.name or self.forward.split(":", 1)[-1].split("@", 1)[0]


class TransferSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    methods: list[str] | None = None  # default: every method
    tasks: list[TaskSpec] = Field(default_factory=list)
    forwards: list[str] = Field(default_factory=list)  # other forward engines (on the source task too)
    test_limit: int | None = Field(None, ge=1)
    which: Literal["best", "last"] = "best"

    @field_validator("tasks", mode="before")
    @classmethod
    def _tasks(cls, v: Any) -> Any:
        return [{"name": t} if isinstance(t, str) else t for t in v or []]


class RunnerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workers: int = Field(1, ge=1)  # local process pool size (1 = one trial after another)
    num_cpus: float = Field(1.0, gt=0)  # Ray resources per trial
    num_gpus: float = Field(0.0, ge=0)
    retries: int = Field(1, ge=0)
    # One response cache shared by the sweep's trials: a request is answered once per sweep
    # (tables still show each trial's cost alone). Off: every trial pays for all its requests.
    share_cache: bool = True


class ExperimentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    methods: list[MethodSpec] = Field(min_length=1)
    tasks: list[TaskSpec] = Field(min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    engines: list[EnginePair] = Field(min_length=1)
    train: dict[str, Any] = Field(default_factory=dict)
    compare: list[tuple[str, str]] | None = None
    transfer: TransferSpec | None = None
    # Where each finished trial's summary row is kept (a folder committed to the repository): a trial
    # whose row is there is not run again, on any machine, so a sweep can go on across days.
    results: str | None = None
    bootstrap_samples: int = Field(2000, ge=100)
    stats_seed: int = 0
    runner: RunnerSpec = Field(default_factory=RunnerSpec)

    @field_validator("methods", mode="before")
    @classmethod
    def _methods(cls, v: Any) -> Any:
        return [_method_shorthand(m) if isinstance(m, str) else m for m in v or []]

    @field_validator("tasks", mode="before")
    @classmethod
    def _tasks(cls, v: Any) -> Any:
        return [{"name": t} if isinstance(t, str) else t for t in v or []]

    @field_validator("engines", mode="before")
    @classmethod
    def _engines(cls, v: Any) -> Any:
        return [{"forward": e} if isinstance(e, str) else e for e in v or []]

    @model_validator(mode="after")
    def _check(self) -> ExperimentSpec:
        names = [m.name for m in self.methods]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate method name(s) {dup}; give each method a distinct 'name'")
        for a, b in self.compare or []:
            for n in (a, b):
                if n not in names:
                    raise ValueError(f"compare: unknown method {n!r}; methods: {', '.join(names)}")
        labels = [e.label for e in self.engines]
        if len(set(labels)) != len(labels):
            raise ValueError("engines: two engines share a label; give them distinct 'name's")
        return self


def _method_shorthand(text: str) -> dict[str, Any]:
    if text == "apo":
        return {"name": "apo", "method": "apo"}
    if text == "human" or text.startswith("human:"):
        prompt = text.split(":", 1)[1] if ":" in text else "start"
        return {"name": text, "method": "human", "prompt": prompt}
    return {"name": text, "method": "tgd", "preset": text}


def parse_experiment(data: Any, where: str = "experiment") -> ExperimentSpec:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    try:
        return ExperimentSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(root)"
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            model = _model_at(first["loc"])
            msg = f"unknown key; allowed: {', '.join(model.model_fields)}" if model else msg
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{where}: {key}: {msg}{more}") from None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that owns the unknown key at `loc` (for the list of allowed keys)."""
    models: dict[str, type[BaseModel]] = {
        "methods": MethodSpec,
        "tasks": TaskSpec,
        "engines": EnginePair,
        "transfer": TransferSpec,
        "runner": RunnerSpec,
    }
    owner: type[BaseModel] = ExperimentSpec
    for part in loc[:-1]:
        if isinstance(part, str) and part in models:
            owner = models[part]
        elif isinstance(part, str) and part == "tasks" and owner is TransferSpec:
            owner = TaskSpec
    return owner


def load_experiment(path: str | Path) -> ExperimentSpec:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such experiment file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return parse_experiment(data, where=str(path))
