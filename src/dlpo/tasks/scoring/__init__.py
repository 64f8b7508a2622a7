"""Scorers: extract the final answer from a reply and compare it with the target, with a reason.

Strict scorers (the default everywhere) read the last `Answer:` line (`\\boxed{}` for MATH).
`reference:*` scorers reproduce the paper code's lenient rules (see `reference.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from dlpo.errors import ConfigError
from dlpo.tasks.base import Scorer
from dlpo.tasks.scoring.boxed import MathScorer
from dlpo.tasks.scoring.choice import ChoiceScorer
from dlpo.tasks.scoring.exact import ExactScorer
from dlpo.tasks.scoring.label import LabelScorer
from dlpo.tasks.scoring.numeric import NumericScorer
from dlpo.tasks.scoring.reference import ReferenceMathScorer, ReferenceNumericScorer
from dlpo.tasks.scoring.whole import WholeReplyScorer

_FACTORIES: dict[str, Callable[[], Scorer]] = {
    "numeric": NumericScorer,
    "choice": ChoiceScorer,
    "label": LabelScorer,
    "exact": ExactScorer,
    "exact-nospace": lambda: ExactScorer(name="exact-nospace", ignore_spaces=True),
    "exact-nocase": lambda: ExactScorer(name="exact-nocase", ignore_case=True),
    "math": MathScorer,
    "whole": WholeReplyScorer,
    "reference:gsm8k": lambda: ReferenceNumericScorer("gsm8k"),
    "reference:mgsm": lambda: ReferenceNumericScorer("mgsm"),
    "reference:math": ReferenceMathScorer,
}

SCORER_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def make_scorer(name: str) -> Scorer:
    """A scorer by name (see `SCORER_NAMES`); unknown names raise ConfigError listing the choices."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise ConfigError(f"unknown scorer {name!r}; choose one of: {', '.join(SCORER_NAMES)}")
    return factory()


def check_target(scorer: Scorer, target: str) -> str | None:
    """What is wrong with `target` for `scorer` (None when fine, or when the scorer cannot tell)."""
    check = getattr(scorer, "check_target", None)
    return check(target) if check is not None else None


__all__ = [
    "SCORER_NAMES",
    "ChoiceScorer",
    "ExactScorer",
    "LabelScorer",
    "MathScorer",
    "NumericScorer",
    "ReferenceMathScorer",
    "ReferenceNumericScorer",
    "WholeReplyScorer",
    "check_target",
    "make_scorer",
]
