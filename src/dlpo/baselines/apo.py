"""APO / ProTeGi (Pryzant et al., 2023, arXiv 2305.03495): beam search over prompts, expanded by
textual gradients and selected by a bandit.

One round, for every prompt of the beam:
1. score it on a random minibatch of training examples and keep the errors;
2. *gradients*: `n_gradients` times, show `errors_per_gradient` sampled errors and ask for
   `gradients_per_error` reasons the prompt failed;
3. *edits*: for each reason, ask for `steps_per_gradient` improved prompts;
4. *Monte-Carlo successors*: `mc_samples` paraphrases of each edited prompt;
5. keep at most `max_expansion` successors (a seeded random sample).
Then the beam and all successors compete: a bandit (UCB or successive rejects) with a budget of
example evaluations on the training split keeps the best `beam_width` prompts, best first.

Defaults are the paper's (its §3 and released code): beam 4, 6 rounds (`steps`), minibatch 64, 4
gradients from groups of 4 errors, 1 reason each, 1 edit per reason, 2 MC successors per edit, at
most 8 successors per parent, UCB with 8 rounds of 8 prompts x 32 examples, c = 1. On 2 CPU cores
these are far too many calls: scale down with `minibatch`, `n_gradients`, `samples_per_eval`,
`eval_rounds` (see `estimate_calls` and experiments/compare_demo.yaml).
Roles: forward (minibatch), backward (gradients), optimizer (edits, paraphrases), selection
(bandit evaluations), validation and test (as in `fit`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dlpo.baselines import apo_prompts as P
from dlpo.baselines.bandit import Selection, select_successive_rejects, select_ucb
from dlpo.engines.client import LLMClient
from dlpo.errors import ConfigError
from dlpo.evaluation import ExampleResult, evaluate
from dlpo.optim.gradient import batch_sources
from dlpo.optim.parsing import reject_reason
from dlpo.tasks.base import Example, Task


class ApoOptions(BaseModel):
    """APO's knobs (TrainConfig.method_options); `steps` of the TrainConfig is the number of rounds."""

    model_config = ConfigDict(extra="forbid")

    beam_width: int = Field(4, ge=1)
    minibatch: int = Field(64, ge=1)
    n_gradients: int = Field(4, ge=1)
    errors_per_gradient: int = Field(4, ge=1)
    gradients_per_error: int = Field(1, ge=1)
    steps_per_gradient: int = Field(1, ge=1)
    mc_samples: int = Field(2, ge=0)
    max_expansion: int = Field(8, ge=1)
    selection: Literal["ucb", "successive_rejects"] = "ucb"
    eval_rounds: int = Field(8, ge=1)
    arms_per_round: int = Field(8, ge=1)
    samples_per_eval: int = Field(32, ge=1)
    ucb_c: float = Field(1.0, ge=0.0)
    sr_budget: int | None = Field(None, ge=2)  # successive rejects: example evaluations per round
    gradient_max_tokens: int = Field(300, ge=16)
    edit_max_tokens: int = Field(300, ge=16)
    paraphrase_max_tokens: int = Field(200, ge=16)

    @classmethod
    def build(cls, data: dict[str, Any]) -> ApoOptions:
        try:
            return cls(**data)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            allowed = ", ".join(cls.model_fields)
            raise ConfigError(f"apo option {key}: {first['msg']} (options: {allowed})") from None


def estimate_calls(o: ApoOptions, rounds: int, val: int, test: int) -> int:
    """An upper bound on model calls (with an empty cache) of an APO run, for budget comparisons."""
    per_parent = o.minibatch + o.n_gradients * (
        1 + o.gradients_per_error * o.steps_per_gradient * (1 + o.mc_samples)
    )
    arms = o.beam_width * (1 + o.max_expansion)
    selection = (
        o.eval_rounds * min(o.arms_per_round, arms) * o.samples_per_eval
        if o.selection == "ucb"
        else (o.sr_budget or o.eval_rounds * o.arms_per_round * o.samples_per_eval)
    )
    return val + rounds * (o.beam_width * per_parent + selection + val) + 3 * test


@dataclass
class Expansion:
    parent: str
    batch_score: float
    gradients: list[str] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)
    paraphrases: list[str] = field(default_factory=list)
    successors: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)


class APO:
    """The search state (beam, RNG) and one `round()`; the run directory is `apo_run`'s job."""

    def __init__(
        self,
        task: Task,
        train: Sequence[Example],
        forward: LLMClient,
        backward: LLMClient,
        options: ApoOptions,
        *,
        seed: int,
        start: str,
        forward_max_tokens: int,
        max_prompt_words: int = 300,
    ) -> None:
        self.task, self.train, self.o = task, list(train), options
        self.forward, self.backward = forward, backward
        self.rng = random.Random(seed)
        self.seed = seed
        self.beam = [start]
        self.forward_max_tokens = forward_max_tokens
        self.max_prompt_words = max_prompt_words

    async def expand(self, parent: str) -> Expansion:
        o, task = self.o, self.task
        batch = self.rng.sample(self.train, min(o.minibatch, len(self.train)))
        result = await evaluate(
            self.forward, task, parent, batch, role="forward", max_tokens=self.forward_max_tokens
        )
        exp = Expansion(parent, result.mean)
        errors = [r for r in result.results if not r.score.correct]
        if not errors:
            return exp
        groups = [
            self.rng.sample(errors, min(o.errors_per_gradient, len(errors))) for _ in range(o.n_gradients)
        ]
        replies = await self.backward.complete(
            [
                P.gradient_request(parent, task, g, o.gradients_per_error, o.gradient_max_tokens)
                for g in groups
            ],
            role="backward",
        )
        pairs: list[tuple[list[ExampleResult], str]] = []
        for group, reply in zip(groups, replies):
            for reason in P.parse_items(
                reply.text, reply.finish_reason, limit=o.gradients_per_error, keep_truncated=True
            ):
                pairs.append((group, reason))
                exp.gradients.append(reason)
        if pairs:
            replies = await self.backward.complete(
                [
                    P.edit_request(parent, task, g, r, o.steps_per_gradient, o.edit_max_tokens)
                    for g, r in pairs
                ],
                role="optimizer",
            )
            for (group, _), reply in zip(pairs, replies):
                for text in P.parse_items(reply.text, reply.finish_reason, limit=o.steps_per_gradient):
                    if self._usable(exp, text, parent, group):
                        exp.edits.append(text)
        if exp.edits and o.mc_samples:
            requests = [
                P.paraphrase_request(e, o.paraphrase_max_tokens, sample_index=k, seed=self.seed)
                for e in exp.edits
                for k in range(o.mc_samples)
            ]
            replies = await self.backward.complete(requests, role="optimizer")
            for k, reply in enumerate(replies):
                source = exp.edits[k // o.mc_samples]
                for text in P.parse_items(reply.text, reply.finish_reason, limit=1):
                    if self._usable(exp, text, source, errors):
                        exp.paraphrases.append(text)
        pool = list(dict.fromkeys(exp.edits + exp.paraphrases))
        exp.successors = self.rng.sample(pool, o.max_expansion) if len(pool) > o.max_expansion else pool
        return exp

    def _usable(self, exp: Expansion, text: str, current: str, items: Sequence[ExampleResult]) -> bool:
        why = reject_reason(
            text, current=current, sources=batch_sources(items), max_words=self.max_prompt_words
        )
        if why is not None:
            exp.rejected.append({"candidate": text, "reason": why})
        return why is None

    async def select(self, candidates: list[str]) -> Selection:
        o = self.o

        async def pull(arms: Sequence[int], n: int) -> list[list[float]]:
            sample = self.rng.sample(self.train, min(n, len(self.train)))
            results = await asyncio.gather(
                *(
                    evaluate(
                        self.forward,
                        self.task,
                        candidates[a],
                        sample,
                        role="selection",
                        max_tokens=self.forward_max_tokens,
                    )
                    for a in arms
                )
            )
            return [r.scores() for r in results]

        if o.selection == "successive_rejects":
            budget = o.sr_budget or o.eval_rounds * o.arms_per_round * o.samples_per_eval
            return await select_successive_rejects(len(candidates), o.beam_width, pull, budget=budget)
        return await select_ucb(
            len(candidates),
            o.beam_width,
            pull,
            rounds=o.eval_rounds,
            arms_per_round=o.arms_per_round,
            samples_per_pull=o.samples_per_eval,
            c=o.ucb_c,
        )

    async def round(self) -> tuple[list[Expansion], list[str], Selection]:
        """Expand every beam prompt, then select the new beam. Returns (expansions, candidates, selection)."""
        expansions = [await self.expand(parent) for parent in self.beam]
        candidates = list(dict.fromkeys(self.beam + [s for e in expansions for s in e.successors]))
        selection = await self.select(candidates)
        self.beam = [candidates[i] for i in selection.kept]
        return expansions, candidates, selection
