"""Recipes: named compositions of techniques, an acceptance rule and schedules (like optax aliases).

Presets:
- `tgd`: TextGrad - nothing on, always accept (dlpo's engineered gradient, `optim/gradient.py`).
- `textgrad`: literal TextGrad - nothing on, always accept, and TextGrad's two-hop gradient with
  concatenation (`gradient="textgrad"`, `optim/textgrad_gradient.py`).
- `dlpo`: TLRD + TSA + TCL + TRegu (the paper's best). TLRD is a schedule over TLR's budget, so it
  implies TLR's measured sentence-edit budget (stated in the request, measured, re-asked/trimmed).
- `tlr`, `tdo`, `tsa`, `tlrd`, `tmnt`, `tcl`, `tregu`: that technique only, with AlwaysAccept
  unless the technique is TSA.

Defaults (paper.md §3/§4; reference values where the code has them): lr 4 (TLR worked example and
TLRD simulation), linear decay of 1 per accepted step with floor 1, dropout 0.3 (suggested
0.2-0.5), momentum window 3, contrastive gap 0.15, TRegu warm-up 16 remembered prompts (scaled
down to ceil(planned steps / 4) for shorter runs, so it acts in every run), TSA
hard margin 0.3, prompt cap 300 words. TSA's temperature defaults to a schedule scaled to the planned
run (`t0="auto"`: a 0.1 score drop accepted with p 0.8 at the first step, 0.05 at the last); the
reference's T0 = 64, decay 2 per accepted step (`t0=64`) accepts anything within the hard margin
for the first ~6 accepted steps, i.e. the whole of a short run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from dlpo.engines.client import LLMClient
from dlpo.errors import ConfigError
from dlpo.optim.acceptance import AlwaysAccept, Greedy, SimulatedAnnealing
from dlpo.optim.base import AcceptanceRule, Technique
from dlpo.optim.optimizer import TextualGradientDescent
from dlpo.optim.schedules import CosineDecay, LinearDecay, LRScheduler, StepDecay
from dlpo.optim.techniques import Contrastive, Dropout, LearningRate, Momentum, Regularization
from dlpo.optim.variable import Prompt

TECHNIQUES = ("tlr", "tdo", "tsa", "tlrd", "tmnt", "tcl", "tregu")
PRESETS: dict[str, tuple[str, ...]] = {
    "tgd": (),
    "dlpo": ("tlrd", "tsa", "tcl", "tregu"),
    "textgrad": (),
    **{t: (t,) for t in TECHNIQUES},
}
# Methods other than the textual-gradient loop, run by `fit` through `dlpo.baselines`
# (APO/ProTeGi; the human-prompt baseline evaluates a given prompt).
METHOD_PRESETS = ("apo", "human")
# Recipe fields other than techniques that a preset sets (kept when `techniques` replaces its list).
PRESET_FIELDS: dict[str, dict[str, Any]] = {"textgrad": {"gradient": "textgrad"}}
# Loop settings of a preset, applied only when the recipe is that preset as is (its own techniques).
# Empty: skipping all-correct batches is the run option `TrainConfig.skip_correct_batches`, the same
# for every method.
PRESET_LOOP_FIELDS: dict[str, dict[str, Any]] = {}
# Recipe keys left out of `model_dump()` while at their default, so config.json files and experiment
# trial ids written before the key existed stay the same.
_OMIT_AT_DEFAULT: tuple[str, ...] = ("gradient", "skip_correct_batches")


class Recipe(BaseModel):
    """The resolved, serialisable recipe of an optimizer (written into the run's config)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "custom"
    techniques: list[str] = Field(default_factory=list)
    acceptance: Literal["always", "greedy", "annealing"] | None = None  # None: annealing iff tsa, else always
    lr: int = Field(4, ge=1, le=50)
    lr_schedule: Literal["linear", "step", "cosine", "none"] = "linear"
    lr_floor: int = Field(1, ge=1)
    lr_step_every: int = Field(2, ge=1)
    lr_step_factor: float = Field(0.5, gt=0.0, le=1.0)
    lr_cosine_steps: int = Field(10, ge=1)
    lr_on: Literal["accepted", "every"] = "accepted"
    lr_exact: bool = True  # kept so old config.json files load; TLR always enforces "at most lr"
    bold_above: int | None = Field(None, ge=1)
    dropout: float = Field(0.3, ge=0.0, le=1.0)
    momentum_k: int = Field(3, ge=1, le=20)
    contrastive_gap: float = Field(0.15, ge=0.0, le=1.0)
    regularization_warmup: int = Field(16, ge=0)
    regularization_warmup_steps: int | None = Field(None, ge=0)
    # "auto": TSA's temperature scaled to the planned run (acceptance.auto_schedule); a number: the
    # reference schedule T = t0 / t_decay ** accepted steps (the reference uses 64 and 2)
    t0: float | Literal["auto"] = "auto"
    t_decay: float = Field(2.0, ge=1.0)
    hard_margin: float = Field(0.3, ge=0.0, le=1.0)
    max_prompt_words: int = Field(300, ge=10)
    # "dlpo": the engineered gradient (optim/gradient.py); "textgrad": TextGrad's two hops + concatenation
    gradient: Literal["dlpo", "textgrad"] = "dlpo"
    # Deprecated: the run option `TrainConfig.skip_correct_batches` (one default for every method)
    # decides. Kept so config.json files that set it load; a TrainConfig that is not given the run
    # option takes this value when the recipe sets it.
    skip_correct_batches: bool = False

    @model_serializer(mode="wrap")
    def _omit_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        for key in _OMIT_AT_DEFAULT:
            if key in data and getattr(self, key) == type(self).model_fields[key].default:
                del data[key]
        return data

    @field_validator("t0")
    @classmethod
    def _t0(cls, value: float | str) -> float | str:
        if value != "auto" and not float(value) > 0:
            raise ValueError("must be 'auto' or greater than 0")
        return value

    @model_validator(mode="after")
    def _resolve(self) -> Recipe:
        unknown = [t for t in self.techniques if t not in TECHNIQUES]
        if unknown:
            raise ValueError(f"unknown technique(s) {unknown}; allowed: {', '.join(TECHNIQUES)}")
        self.techniques = [t for t in TECHNIQUES if t in self.techniques]  # canonical order, no duplicates
        if self.acceptance is None:
            self.acceptance = "annealing" if "tsa" in self.techniques else "always"
        elif self.acceptance == "annealing" and "tsa" not in self.techniques:
            raise ValueError("acceptance 'annealing' is TSA: add 'tsa' to techniques")
        elif "tsa" in self.techniques and self.acceptance != "annealing":
            raise ValueError(f"technique 'tsa' needs acceptance 'annealing', not {self.acceptance!r}")
        return self

    @property
    def uses_tlr(self) -> bool:
        """TLR's measured budget is on with TLR itself and with TLRD (a schedule over its budget)."""
        return "tlr" in self.techniques or "tlrd" in self.techniques


def _config_error(err: ValidationError) -> ConfigError:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "recipe"
    msg = first["msg"].removeprefix("Value error, ")
    return ConfigError(
        f"recipe: {key}: {msg} (got {first.get('input')!r})" if first["loc"] else f"recipe: {msg}"
    )


def recipe_from_dict(data: dict[str, Any]) -> Recipe:
    """Validate a recipe read from a file; errors become ConfigError naming the key."""
    try:
        return Recipe(**data)
    except ValidationError as err:
        raise _config_error(err) from None


def _technique_list(techniques: str | Sequence[str]) -> list[str]:
    items = techniques.split(",") if isinstance(techniques, str) else list(techniques)
    return [t.strip().lower() for t in items if t.strip() and t.strip().lower() != "none"]


def resolve_recipe(
    preset: str | None = None, techniques: str | Sequence[str] | None = None, **overrides: Any
) -> Recipe:
    """The recipe of `preset` (default "dlpo"); `techniques` (list or comma-separated) replaces the
    preset's technique list; `overrides` set recipe fields (None values are ignored, so CLI flags
    that were not given can be passed straight through)."""
    if preset is not None and preset.lower() in METHOD_PRESETS:
        if techniques is not None or any(v is not None for v in overrides.values()):
            raise ConfigError(
                f"preset {preset!r} is its own method: it takes no techniques or recipe options"
            )
        return Recipe(name=preset.lower(), techniques=[])
    if preset is not None and preset.lower() not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; allowed: {', '.join([*PRESETS, *METHOD_PRESETS])}")
    base = (preset or ("custom" if techniques is not None else "dlpo")).lower()
    names = list(PRESETS.get(base, ()))
    if techniques is not None:
        names = _technique_list(techniques)
        unknown = [t for t in names if t not in TECHNIQUES]
        if unknown:
            raise ConfigError(f"unknown technique(s) {unknown}; allowed: {', '.join(TECHNIQUES)}")
        if preset is None or tuple(sorted(names)) != tuple(sorted(PRESETS[base])):
            joined = [t for t in TECHNIQUES if t in names]
            if preset is not None and preset.lower() in PRESET_FIELDS:  # e.g. "textgrad+tlr"
                base = "+".join([preset.lower(), *joined])
            else:
                base = "+".join(joined) or "tgd"
    fields = set(Recipe.model_fields) - {"name", "techniques"}
    bad = [k for k in overrides if k not in fields]
    if bad:
        raise ConfigError(f"unknown recipe option(s) {bad}; allowed: {', '.join(sorted(fields))}")
    given = {k: v for k, v in overrides.items() if v is not None}
    preset_fields = PRESET_FIELDS.get((preset or "").lower(), {})
    loop_fields = PRESET_LOOP_FIELDS.get(base, {})
    return recipe_from_dict({"name": base, "techniques": names, **preset_fields, **loop_fields, **given})


def _lr_schedule(recipe: Recipe) -> Any:
    if recipe.lr_schedule == "linear":
        return LinearDecay(recipe.lr, floor=recipe.lr_floor)
    if recipe.lr_schedule == "step":
        return StepDecay(
            recipe.lr, factor=recipe.lr_step_factor, every=recipe.lr_step_every, floor=recipe.lr_floor
        )
    return CosineDecay(recipe.lr, total=recipe.lr_cosine_steps, floor=recipe.lr_floor)


def build_techniques(recipe: Recipe, planned_steps: int | None = None) -> list[Technique]:
    """The recipe's techniques. `planned_steps` (the run's planned optimizer steps, when known)
    scales TRegu's warm-up to the run: min(warm-up, ceil(planned_steps / 4))."""
    out: list[Technique] = []
    t = set(recipe.techniques)
    if "tcl" in t:
        out.append(Contrastive(gap=recipe.contrastive_gap))
    if "tmnt" in t:
        out.append(Momentum(k=recipe.momentum_k))
    if "tdo" in t:
        out.append(Dropout(p=recipe.dropout))
    if "tregu" in t:
        out.append(
            Regularization(
                warmup_prompts=recipe.regularization_warmup,
                warmup_steps=recipe.regularization_warmup_steps,
                planned_steps=planned_steps,
            )
        )
    if recipe.uses_tlr:
        out.append(LearningRate(lr=recipe.lr, bold_above=recipe.bold_above))
    return out


def build_acceptance(recipe: Recipe, planned_steps: int | None = None) -> AcceptanceRule:
    if recipe.acceptance == "annealing":
        if recipe.t0 == "auto":
            return SimulatedAnnealing.scaled_to_run(planned_steps or 8, hard_margin=recipe.hard_margin)
        return SimulatedAnnealing(t0=recipe.t0, decay=recipe.t_decay, hard_margin=recipe.hard_margin)
    if recipe.acceptance == "greedy":
        return Greedy()
    return AlwaysAccept()


def build_optimizer(
    recipe: Recipe,
    prompt: Prompt,
    client: LLMClient,
    *,
    score_fn: Callable[[str], Awaitable[float]] | None,
    seed: int,
    planned_steps: int | None = None,
    components: Components | None = None,
    **optimizer_options: Any,
) -> tuple[TextualGradientDescent, list[LRScheduler]]:
    """The optimizer and its schedulers for `recipe` (TLRD -> an LRScheduler over accepted steps).
    `components` adds objects of the caller's own (techniques, an acceptance rule that replaces the
    recipe's, a learning-rate schedule). `optimizer_options` pass through to TextualGradientDescent
    (max_tokens, temperature, ...)."""
    extra = components or Components()
    schedule = extra.lr_schedule
    lr = recipe.lr if recipe.uses_tlr else None
    if schedule is not None:
        lr = schedule(0)
    opt = TextualGradientDescent(
        prompt,
        client,
        techniques=[*build_techniques(recipe, planned_steps), *extra.techniques],
        acceptance=extra.acceptance or build_acceptance(recipe, planned_steps),
        score_fn=score_fn,
        lr=lr,
        seed=seed,
        max_prompt_words=recipe.max_prompt_words,
        **optimizer_options,
    )
    schedulers: list[LRScheduler] = []
    if schedule is not None:
        schedulers.append(LRScheduler(opt, schedule, on=recipe.lr_on))
    elif "tlrd" in recipe.techniques and recipe.lr_schedule != "none":
        schedulers.append(LRScheduler(opt, _lr_schedule(recipe), on=recipe.lr_on))
    return opt, schedulers


@dataclass
class Components:
    """Optimizer parts given as objects rather than names: techniques (`optim.base.Technique`), an
    acceptance rule (`optim.base.AcceptanceRule`) and a learning-rate schedule (`t -> lr`). Their
    names are recorded in the run's config (`TrainConfig.components`) so a resume can check it is
    given the same objects again."""

    techniques: Sequence[Technique] = ()
    acceptance: AcceptanceRule | None = None
    lr_schedule: Any = None

    def names(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.techniques:
            out["techniques"] = [t.name for t in self.techniques]
        if self.acceptance is not None:
            out["acceptance"] = getattr(self.acceptance, "name", type(self.acceptance).__name__)
        if self.lr_schedule is not None:
            out["lr_schedule"] = getattr(self.lr_schedule, "name", type(self.lr_schedule).__name__)
        return out
