"""`TextualGradientDescent`: one textual update step, shaped by composable techniques.

Usage, in the style of torch.optim::

    opt = TextualGradientDescent(prompt, backward_client, techniques=[...], acceptance=..., score_fn=...)
    loss = await textual_loss(forward_client, task, prompt, batch)
    opt.zero_grad(); await loss.backward(backward_client); report = await opt.step(); scheduler.step(report)

A step never raises on a bad reply: an unusable reply (no tags, unchanged, pasted text, loop ...)
or a technique's complaint (TLR over budget) gets one re-ask with a short reminder; then a
technique repairs (TLR trims, TDO restores) or the step fails, keeping the current prompt, and the
report says why. Engine errors (EngineError, BudgetExceeded) propagate.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from dlpo.engines.client import LLMClient
from dlpo.errors import ConfigError
from dlpo.optim.acceptance import AlwaysAccept
from dlpo.optim.base import AcceptanceRule, Decision, Gradient, StepOutcome, Technique, UpdateContext
from dlpo.optim.parsing import parse_reply, reask_hint, reject_reason
from dlpo.optim.report import StepReport
from dlpo.optim.request import SECTION_ORDER, build_update_message, update_request, with_reminder
from dlpo.optim.sentences import sentence_diff, text_stats
from dlpo.optim.variable import Prompt
from dlpo.runs.checkpoint import rng_state_from_json, rng_state_to_json

__all__ = ["CHECK_ORDER", "ScoreFn", "StepReport", "TextualGradientDescent"]

ScoreFn = Callable[[str], Awaitable[float]]
CHECK_ORDER = ("tdo", "tlr")  # repairs first (TDO restores), then the edit budget is measured
REMEMBER_REJECTED = 16
ALREADY_REJECTED = "already rejected: the same prompt was proposed at an earlier step and turned down"


def _normalized(text: str) -> str:
    return " ".join(text.split()).lower()


def _by_order(techniques: Sequence[Technique], order: Sequence[str]) -> list[Technique]:
    def rank(t: Technique) -> int:
        return order.index(t.name) if t.name in order else len(order)

    return sorted(techniques, key=rank)


class TextualGradientDescent:
    """The textual optimizer. `lr` is the current textual learning rate (sentence-edit budget read
    by TLR; LR schedulers set it). `score_fn(prompt) -> acceptance-set score` is required when the
    acceptance rule or a technique `needs_scores`."""

    def __init__(
        self,
        prompt: Prompt,
        client: LLMClient,
        *,
        techniques: Sequence[Technique] = (),
        acceptance: AcceptanceRule | None = None,
        score_fn: ScoreFn | None = None,
        lr: float | None = None,
        seed: int = 0,
        max_prompt_words: int = 300,
        role_description: str | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        reask_temperature: float = 0.7,
        role: str = "optimizer",
    ) -> None:
        names = [t.name for t in techniques]
        if len(set(names)) != len(names):
            raise ConfigError(f"each technique may appear once; got {names}")
        self.prompt = prompt
        if role_description:
            prompt.role_description = role_description
        self.client = client
        self.techniques = list(techniques)
        self.acceptance: AcceptanceRule = acceptance if acceptance is not None else AlwaysAccept()
        self.score_fn = score_fn
        self.lr = lr
        self.seed = seed
        self.rng = random.Random(seed)
        self.max_prompt_words = max_prompt_words
        self.max_tokens = max_tokens
        self.temperature = temperature
        # A greedy re-ask of a near-identical request tends to return the same unusable reply
        # (small models repeat an unchanged prompt verbatim), so re-asks sample instead; the
        # request carries a seed, so the reply is still reproducible and cached.
        self.reask_temperature = reask_temperature
        self.role = role
        self.step_count = 0
        self.accepted_count = 0
        # Candidates an acceptance rule turned down (the last REMEMBER_REJECTED): proposing one
        # again is treated like an unusable reply (one re-ask), not scored a second time.
        self.rejected: list[str] = []
        self._scored: tuple[str, float] | None = None  # (prompt text, its acceptance-set score)
        if self.needs_scores and score_fn is None:
            needers = [t.name for t in self.techniques if getattr(t, "needs_scores", False)]
            if self.acceptance.needs_scores:
                needers.append(self.acceptance.name)
            raise ConfigError(f"{', '.join(needers)} need acceptance-set scores: pass score_fn")

    @property
    def needs_scores(self) -> bool:
        return self.acceptance.needs_scores or any(getattr(t, "needs_scores", False) for t in self.techniques)

    def zero_grad(self) -> None:
        self.prompt.grad = None

    async def current_score(self) -> float:
        """The acceptance-set score of the current prompt (computed once per prompt text)."""
        if self.score_fn is None:
            raise ConfigError("no score_fn was given to the optimizer")
        if self._scored is None or self._scored[0] != self.prompt.text:
            self._scored = (self.prompt.text, float(await self.score_fn(self.prompt.text)))
        return self._scored[1]

    async def _ask(self, message: str, reask: bool = False) -> tuple[str, str]:
        temperature = max(self.temperature, self.reask_temperature) if reask else self.temperature
        request = update_request(
            message, max_tokens=self.max_tokens, temperature=temperature, seed=self.seed + self.step_count
        )
        [completion] = await self.client.complete([request], role=self.role)
        return completion.text, completion.finish_reason

    def _usable(
        self, reply: tuple[str, str], current: str, grad: Gradient, log: list[dict[str, Any]]
    ) -> str | None:
        text, finish = reply
        parsed = parse_reply(text, current=current, finish_reason=finish)
        reason = parsed.reason if parsed.candidate is None else self._reject(parsed.candidate, current, grad)
        log.append({"method": parsed.method, "finish_reason": finish, "reason": reason or "ok"})
        return parsed.candidate if not reason else None

    def _reject(self, candidate: str, current: str, grad: Gradient) -> str | None:
        reason = reject_reason(
            candidate,
            current=current,
            sources=grad.sources,
            feedback=grad.text,
            max_words=self.max_prompt_words,
        )
        if reason is None and _normalized(candidate) in {_normalized(r) for r in self.rejected}:
            return ALREADY_REJECTED
        return reason

    def _check(
        self, ctx: UpdateContext, candidate: str, reask_allowed: bool
    ) -> tuple[str, str | None, str, dict]:
        ctx.notes["reask_allowed"] = reask_allowed
        metrics: dict[str, Any] = {}
        violations: dict[str, int] = {}
        reask, by = None, ""
        for tech in _by_order(self.techniques, CHECK_ORDER):
            result = tech.check(ctx, candidate)
            candidate = result.candidate
            metrics.update(result.metrics)
            violations[tech.name] = result.violations
            if result.reask and reask is None and reask_allowed:
                reask, by = result.reask, tech.name
        metrics["violations"] = violations
        return candidate, reask, by, metrics

    async def step(self) -> StepReport:
        """One update: request, reply, parse, check/repair, score, accept, observe."""
        grad = self.prompt.grad
        if grad is None:
            raise RuntimeError("step() needs prompt.grad: call `await loss.backward(client)` first")
        current = self.prompt.text
        ctx = UpdateContext(step=self.step_count, prompt=current, gradient=grad, rng=self.rng, lr=self.lr)
        sections = [s for t in _by_order(self.techniques, SECTION_ORDER) for s in t.sections(ctx)]
        message = build_update_message(current, self.prompt.role_description, grad.text, sections)
        replies: list[str] = []
        parse_log: list[dict[str, Any]] = []
        metrics: dict[str, Any] = {"lr": self.lr, "sections": [s.technique for s in sections]}

        async def ask(msg: str) -> tuple[str, str]:
            reply = await self._ask(msg, reask=bool(replies))
            replies.append(reply[0])
            return reply

        final: str | None = None
        first = self._usable(await ask(message), current, grad, parse_log)
        if first is None:
            ctx.notes["reask_by"] = "parse"
            second = self._usable(
                await ask(with_reminder(message, reask_hint(parse_log[-1]["reason"]))),
                current,
                grad,
                parse_log,
            )
            if second is not None:
                final, _, _, check_metrics = self._check(ctx, second, reask_allowed=False)
                metrics.update(check_metrics)
        else:
            repaired, reask, by, check_metrics = self._check(ctx, first, reask_allowed=True)
            if reask is None:
                final = repaired
            else:
                ctx.notes["reask_by"] = by
                second = self._usable(await ask(with_reminder(message, reask)), current, grad, parse_log)
                final, _, _, check_metrics = self._check(ctx, second if second is not None else first, False)
            metrics.update(check_metrics)
        metrics["reask_by"] = ctx.notes.get("reask_by")
        if final is not None:
            late = self._reject(final, current, grad)
            if late is not None:
                parse_log.append({"method": "after_checks", "finish_reason": "", "reason": late})
                final = None
        metrics["parse"] = parse_log
        metrics["reasks"] = len(replies) - 1
        return await self._finish(ctx, grad, current, final, message, replies, metrics)

    async def _finish(
        self,
        ctx: UpdateContext,
        grad: Gradient,
        current: str,
        final: str | None,
        message: str,
        replies: list[str],
        metrics: dict[str, Any],
    ) -> StepReport:
        decision: Decision | None = None
        score_before = score_candidate = None
        if final is None:
            reason = "failed: " + "; ".join(p["reason"] for p in metrics["parse"] if p["reason"] != "ok")
            accepted = False
        else:
            if self.needs_scores:
                score_before = await self.current_score()
                score_candidate = float(await self.score_fn(final))  # type: ignore[misc]
            decision = self.acceptance.decide(score_before, score_candidate, self.rng)
            accepted, reason = decision.accept, decision.reason
            metrics["edits"] = sentence_diff(current, final).to_dict()
            metrics["candidate_stats"] = text_stats(final)
            if decision.temperature is not None:
                metrics["temperature"] = decision.temperature
        outcome = StepOutcome(
            step=ctx.step,
            prompt_before=current,
            candidate=final,
            accepted=accepted,
            gradient=grad,
            score_before=score_before,
            score_candidate=score_candidate,
            reason=reason,
        )
        if not accepted and final is not None and decision is not None:
            self.rejected = [*self.rejected, final][-REMEMBER_REJECTED:]
        if accepted and final is not None:
            self.prompt.text = final
            self.accepted_count += 1
            if score_candidate is not None:
                self._scored = (final, score_candidate)
        for tech in self.techniques:
            tech.observe(outcome)
        self.step_count += 1
        metrics["parse_status"] = "failed" if final is None else ("reasked" if len(replies) > 1 else "ok")
        metrics.update({f"prompt_{k}": v for k, v in text_stats(self.prompt.text).items()})
        return StepReport(ctx.step, outcome, decision, message, replies, metrics, failed=final is None)

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "prompt": self.prompt.text,
            "role_description": self.prompt.role_description,
            "step_count": self.step_count,
            "accepted_count": self.accepted_count,
            "lr": self.lr,
            "scored": list(self._scored) if self._scored is not None else None,
            "rejected": list(self.rejected),
            "rng": rng_state_to_json(self.rng),
            "techniques": {t.name: t.state_dict() for t in self.techniques},
            "acceptance": {"name": self.acceptance.name, "state": self.acceptance.state_dict()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = set(state.get("techniques", {}))
        mine = {t.name for t in self.techniques}
        if saved != mine:
            raise ConfigError(
                f"checkpoint techniques {sorted(saved)} do not match the optimizer's {sorted(mine)}"
            )
        if state["acceptance"]["name"] != self.acceptance.name:
            raise ConfigError(
                f"checkpoint acceptance {state['acceptance']['name']!r} does not match {self.acceptance.name!r}"
            )
        self.prompt.text = state["prompt"]
        self.prompt.role_description = state.get("role_description", self.prompt.role_description)
        self.step_count = int(state["step_count"])
        self.accepted_count = int(state["accepted_count"])
        self.lr = state.get("lr")
        scored = state.get("scored")
        self._scored = (scored[0], float(scored[1])) if scored else None
        self.rejected = list(state.get("rejected", []))
        self.rng.setstate(rng_state_from_json(state["rng"]))
        for tech in self.techniques:
            tech.load_state_dict(state["techniques"][tech.name])
        self.acceptance.load_state_dict(state["acceptance"]["state"])
