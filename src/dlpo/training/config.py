"""`TrainConfig`: the resolved, serialisable configuration of one training run.

It is written to the run's `config.json` (no secrets: engine specs only, API keys come from the
environment) and compared key by key on resume.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dlpo.engines.spec import DEFAULT_BACKWARD, DEFAULT_FORWARD, EngineSettings
from dlpo.errors import ConfigError
from dlpo.evaluation import DEFAULT_FORWARD_MAX_TOKENS
from dlpo.optim.presets import Recipe, resolve_recipe


class BudgetConfig(BaseModel):
    """Limits on model calls (cache hits are free; calls a shared sweep cache answered count), tokens
    and USD; None = unlimited. `then`: what a run does when the budget runs out — `stop` (the run
    ends where it is; `--resume` with a larger budget continues it) or `test` (the optimization ends
    there and the starting, best and last prompts are tested outside the budget: how budget-matched
    comparisons end every method at the same cost)."""

    model_config = ConfigDict(extra="forbid")
    max_calls: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    max_usd: float | None = Field(None, gt=0)
    then: Literal["stop", "test"] = "stop"

    def limits(self) -> dict[str, Any]:
        return {"max_calls": self.max_calls, "max_tokens": self.max_tokens, "max_usd": self.max_usd}


class TrainConfig(BaseModel):
    """What to optimize, with what, for how long.

    `steps` caps optimizer steps, `epochs` caps passes over the train split; with neither, one
    epoch (the reference). `val_limit`/`test_limit`/`train_limit` keep only the first N examples of
    a split (quick runs). `acceptance_set` is the set a candidate is scored on by score-based
    acceptance rules: `"train"` (the whole train split, as in the reference) or the size of a fixed
    seeded random subset of it. `eval_every` validates the current prompt every N steps (and after
    the last step). `forward_max_tokens` caps every forward answer (batch, acceptance, val, test);
    `critique_max_tokens`/`reduction_max_tokens` cap the backward model's per-example critiques and
    their reduction (the bulk of a step's cost on a CPU).

    Run options applied identically by every method (tgd, textgrad, dlpo, the single techniques,
    APO; docs/feedback.md): `feedback` is what the backward and optimizer calls are told (`facts`:
    scorer facts, task conventions and fix hints; `plain`: nothing computed by code);
    `skip_correct_batches` skips the backward and optimizer calls of a minibatch with no wrong
    answer; `warm_start="induce"` writes the starting prompt from a few training pairs
    (`dlpo.optim.induction`); `update_format="json"` asks engines with structured output for JSON
    sentence edits, and others for tags (TGD loop only; APO's requests have their own format). `recipe.skip_correct_batches` is
    deprecated: it is read only when `skip_correct_batches` is not given (old config.json files
    and recipes that set it), and the run option decides.
    """

    model_config = ConfigDict(extra="forbid")

    task: str = "demo"
    task_options: dict[str, Any] = Field(default_factory=dict)
    recipe: Recipe = Field(default_factory=lambda: resolve_recipe("dlpo"))
    steps: int | None = Field(None, ge=1)
    epochs: int | None = Field(None, ge=1)
    batch_size: int = Field(3, ge=1)
    seed: int = 0
    train_limit: int | None = Field(None, ge=1)
    val_limit: int | None = Field(None, ge=1)
    test_limit: int | None = Field(None, ge=1)
    acceptance_set: Literal["train"] | int = "train"
    eval_every: int = Field(1, ge=1)
    forward_max_tokens: int = Field(DEFAULT_FORWARD_MAX_TOKENS, ge=1)
    critique_max_tokens: int = Field(200, ge=16)
    reduction_max_tokens: int = Field(300, ge=16)
    forward: str = DEFAULT_FORWARD
    backward: str = DEFAULT_BACKWARD
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    engine: EngineSettings = Field(default_factory=EngineSettings)  # left out of config.json when unset
    # Options of a method other than the textual-gradient loop (e.g. APO's beam width when
    # recipe.name == "apo"); validated by that method. Left out of config.json when empty.
    method_options: dict[str, Any] = Field(default_factory=dict)
    # Names of the optimizer parts given as objects (`optim.presets.Components`): written so that a
    # resume can check it gets the same ones. Left out of config.json when empty.
    components: dict[str, Any] = Field(default_factory=dict)
    feedback: Literal["facts", "plain"] = "facts"
    skip_correct_batches: bool = True
    warm_start: Literal["none", "induce"] = "none"
    update_format: Literal["tags", "json"] = "json"  # by measurement (docs/feedback.md); tags without support

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if isinstance(self.acceptance_set, int) and self.acceptance_set < 1:
            raise ValueError("acceptance_set must be 'train' or a positive number of examples")
        if "skip_correct_batches" not in self.model_fields_set and (
            "skip_correct_batches" in self.recipe.model_fields_set
        ):  # the deprecated recipe field, when the run option was not given
            self.skip_correct_batches = self.recipe.skip_correct_batches
        return self

    @property
    def max_epochs(self) -> int | None:
        return 1 if self.steps is None and self.epochs is None else self.epochs

    @classmethod
    def build(cls, **values: Any) -> TrainConfig:
        """Validate `values`, turning pydantic errors into a one-line ConfigError naming the key."""
        try:
            return cls(**values)
        except ValidationError as exc:
            raise config_error(exc) from None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        """A saved config. One written before the run options existed ran as it was then: all-correct
        batches skipped only where the recipe said so."""
        data = dict(data)
        if "skip_correct_batches" not in data and isinstance(data.get("recipe"), dict):
            data["skip_correct_batches"] = bool(data["recipe"].get("skip_correct_batches", False))
        return cls.build(**data)

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        if not data["method_options"]:
            del data["method_options"]  # runs of the textual-gradient loop keep their old config.json
        if not data["components"]:
            del data["components"]
        data["engine"] = {k: v for k, v in data["engine"].items() if v is not None}
        if not data["engine"]:
            del data["engine"]
        return data


def config_error(exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "config"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return ConfigError(f"invalid training config: {key}: {first['msg']}{more}")
