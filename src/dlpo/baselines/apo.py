"""APO / ProTeGi (Pryzant et al., 2023, arXiv 2305.03495): beam search over prompts, expanded by
textual gradients and selected by a bandit.

One round draws one minibatch of training examples (seeded), shared by every prompt of the beam
(as `expand_candidates` of the released code does); then, for every prompt of the beam (a parent):
1. score it on the round's minibatch and keep the errors;
2. *gradients*: `n_gradients` times, show `errors_per_gradient` sampled errors and ask for
   `gradients_per_error` reasons the prompt failed;
3. *edits*: for each reason, ask for `steps_per_gradient` improved prompts;
4. *Monte-Carlo successors*: `mc_samples` paraphrases of each edited prompt and `parent_mc_samples`
   paraphrases of the parent itself;
5. keep at most `max_expansion` successors (a seeded random sample).
A parent without errors on the minibatch skips steps 2-3 (there is nothing to show the backward
model). With the run option `skip_correct_batches` (on by default, as for every method) it makes
no backward or optimizer call at all for that minibatch; with it off it still gets its
paraphrases, so an all-correct minibatch does not stall the beam. The error strings follow the
run's feedback switch (`apo_prompts.error_block`).
Then the beam and all successors compete: a bandit (UCB or successive rejects) with a budget of
example evaluations on the training split keeps the best `beam_width` prompts, best first.

Defaults are the paper's (its §3 and released code): beam 4, 6 rounds (`steps`), minibatch 64, 4
gradients from groups of 4 errors, 1 reason each, 1 edit per reason, 2 MC successors per edit, at
most 8 successors per parent, UCB with 8 rounds of 8 prompts x 32 examples, c = 1; the exception is
`parent_mc_samples` (1, where the released code uses `mc_samples`), to keep the call count close.
On 2 CPU cores these are far too many calls: scale down with `minibatch`, `n_gradients`,
`samples_per_eval`, `eval_rounds` (see `estimate_calls` and experiments/compare_demo.yaml).
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
from dlpo.baselines.bandit import Selection, select_successive_rejects, select_ucb, ucb_rounds
from dlpo.engines.client import LLMClient
from dlpo.errors import ConfigError
from dlpo.evaluation import ExampleResult, evaluate
from dlpo.optim.fallback import with_conventions
from dlpo.optim.feedback import FeedbackPolicy
from dlpo.optim.gradient import batch_sources
from dlpo.optim.masking import leaked_values
from dlpo.optim.parsing import reject_reason
from dlpo.optim.update_ask import repair_candidate
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
    parent_mc_samples: int = Field(1, ge=0)  # paraphrases of each parent (released code: mc_samples)
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
    per_parent = (
        o.minibatch
        + o.n_gradients * (1 + o.gradients_per_error * o.steps_per_gradient * (1 + o.mc_samples))
        + o.parent_mc_samples
    )
    arms = o.beam_width * (1 + o.max_expansion)
    per_round = min(o.arms_per_round, arms)
    selection = (
        ucb_rounds(arms, o.eval_rounds, o.arms_per_round) * per_round * o.samples_per_eval
        if o.selection == "ucb"
        else (o.sr_budget or o.eval_rounds * o.arms_per_round * o.samples_per_eval)
    )
    return val + rounds * (o.beam_width * per_parent + selection + val) + 3 * test


@dataclass
class Expansion:
    """One parent's expansion: `examples` are the ids of the round's minibatch, `paraphrases` those
    of the edits and `parent_paraphrases` those of the parent."""

    parent: str
    batch_score: float
    examples: list[str] = field(default_factory=list)
    gradients: list[str] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)
    paraphrases: list[str] = field(default_factory=list)
    parent_paraphrases: list[str] = field(default_factory=list)
    successors: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)


# Paraphrase requests of round r use sample indices r * stride + k, so a parent that stays in the
# beam gets fresh Monte-Carlo samples each round instead of its cached paraphrase of the last round.
_ROUND_STRIDE = 1000


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
        feedback: FeedbackPolicy | None = None,
        skip_correct_batches: bool = True,
    ) -> None:
        self.task, self.train, self.o = task, list(train), options
        self.forward, self.backward = forward, backward
        self.rng = random.Random(seed)
        self.seed = seed
        self.beam = [start]
        self.round_index = 0  # rounds done
        self.forward_max_tokens = forward_max_tokens
        self.max_prompt_words = max_prompt_words
        self.feedback = feedback if feedback is not None else FeedbackPolicy()
        self.skip_correct_batches = skip_correct_batches

    async def expand(self, parent: str, batch: Sequence[Example]) -> Expansion:
        """Expand `parent` with the round's minibatch `batch` (see the module docstring)."""
        result = await evaluate(
            self.forward, self.task, parent, batch, role="forward", max_tokens=self.forward_max_tokens
        )
        exp = Expansion(parent, result.mean, examples=[ex.id for ex in batch])
        errors = [r for r in result.results if not r.score.correct]
        if errors:
            await self._edit(exp, await self._gradients(exp, errors))
        if errors or not self.skip_correct_batches:
            await self._paraphrase(exp, errors)
        pool = list(dict.fromkeys(exp.edits + exp.paraphrases + exp.parent_paraphrases))
        if self.feedback.facts:  # the same as every method's candidates get (optim.fallback)
            pool = list(dict.fromkeys(with_conventions(p, self.feedback.task)[0] for p in pool))
        cap = self.o.max_expansion
        exp.successors = self.rng.sample(pool, cap) if len(pool) > cap else pool
        return exp

    async def _gradients(
        self, exp: Expansion, errors: Sequence[ExampleResult]
    ) -> list[tuple[list[ExampleResult], str]]:
        """(error group, reason) pairs: `n_gradients` requests, each on a seeded sample of errors."""
        o = self.o
        groups = [
            self.rng.sample(errors, min(o.errors_per_gradient, len(errors))) for _ in range(o.n_gradients)
        ]
        requests = [
            P.gradient_request(
                exp.parent, self.task, g, o.gradients_per_error, o.gradient_max_tokens, self.feedback
            )
            for g in groups
        ]
        replies = await self.backward.complete(requests, role="backward")
        pairs: list[tuple[list[ExampleResult], str]] = []
        for group, reply in zip(groups, replies):
            for reason in P.parse_items(
                reply.text, reply.finish_reason, limit=o.gradients_per_error, keep_truncated=True
            ):
                pairs.append((group, reason))
                exp.gradients.append(reason)
        return pairs

    async def _edit(self, exp: Expansion, pairs: Sequence[tuple[list[ExampleResult], str]]) -> None:
        """`steps_per_gradient` edited prompts per (error group, reason) pair."""
        if not pairs:
            return
        o = self.o
        requests = [
            P.edit_request(
                exp.parent, self.task, g, r, o.steps_per_gradient, o.edit_max_tokens, self.feedback
            )
            for g, r in pairs
        ]
        replies = await self.backward.complete(requests, role="optimizer")
        for (group, _), reply in zip(pairs, replies):
            for text in P.parse_items(reply.text, reply.finish_reason, limit=o.steps_per_gradient):
                if (prompt := self._usable(exp, text, exp.parent, group)) is not None:
                    exp.edits.append(prompt)

    async def _paraphrase(self, exp: Expansion, errors: Sequence[ExampleResult]) -> None:
        """Monte-Carlo successors, in one batch: `mc_samples` paraphrases of each edit and
        `parent_mc_samples` of the parent (ProTeGi paraphrases `edits + [parent]`)."""
        o = self.o
        jobs = [(e, k, False) for e in exp.edits for k in range(o.mc_samples)]
        jobs += [(exp.parent, k, True) for k in range(o.parent_mc_samples)]
        if not jobs:
            return
        requests = [
            P.paraphrase_request(
                source,
                o.paraphrase_max_tokens,
                sample_index=self.round_index * _ROUND_STRIDE + k,
                seed=self.seed,
            )
            for source, k, _ in jobs
        ]
        replies = await self.backward.complete(requests, role="optimizer")
        for (source, _, of_parent), reply in zip(jobs, replies):
            for text in P.parse_items(reply.text, reply.finish_reason, limit=1):
                if (prompt := self._usable(exp, text, source, errors)) is not None:
                    (exp.parent_paraphrases if of_parent else exp.paraphrases).append(prompt)

    def _usable(self, exp: Expansion, text: str, current: str, items: Sequence[ExampleResult]) -> str | None:
        """`text` without what the optimizer pasted along (`repair_candidate`), or None (the reason
        logged in `exp.rejected`) when it is not a usable prompt."""
        text, _ = repair_candidate(text, current)
        why = reject_reason(
            text, current=current, sources=batch_sources(items), max_words=self.max_prompt_words
        )
        leaked = leaked_values(text, current, self.feedback.values(items))
        if why is None and leaked:
            why = f"pasted example: the candidate states a value from the batch ({leaked[0]!r})"
        if why is not None:
            exp.rejected.append({"candidate": text, "reason": why})
        return text if why is None else None

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
        """Draw the round's minibatch, expand every beam prompt on it, then select the new beam.
        Returns (expansions, candidates, selection)."""
        batch = self.rng.sample(self.train, min(self.o.minibatch, len(self.train)))
        expansions = [await self.expand(parent, batch) for parent in self.beam]
        candidates = list(dict.fromkeys(self.beam + [s for e in expansions for s in e.successors]))
        selection = await self.select(candidates)
        self.beam = [candidates[i] for i in selection.kept]
        self.round_index += 1
        return expansions, candidates, selection
