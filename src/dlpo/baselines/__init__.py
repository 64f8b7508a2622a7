"""Baselines on the same engines, tasks, cache and ledger: APO/ProTeGi and human-written prompts.

`METHODS` maps a recipe name to an async runner with `dlpo.train.afit`'s signature; `afit`
dispatches to it (TextGrad is not here: it is the `tgd` preset of the textual-gradient loop).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def method_runner(name: str) -> Callable[..., Any] | None:
    """The runner of a non-TGD method (recipe name), or None for the textual-gradient loop."""
    if name == "apo":
        from dlpo.baselines.apo_run import afit_apo

        return afit_apo
    if name == "human":
        from dlpo.baselines.human import afit_human

        return afit_human
    return None
