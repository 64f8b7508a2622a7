"""`TextualGradientDescent`: one textual update step, shaped by composable techniques.

Usage, in the style of torch.optim::

    opt = TextualGradientDescent(prompt, backward_client, techniques=[...], acceptance=..., score_fn=...)
    loss = await textual_loss(forward_client, task, prompt, batch)
    opt.zero_grad(); await loss.backward(backward_client); report = await opt.step(); scheduler.step(report)

A step never raises on a bad reply: an unusable reply (no tags, unchanged, pasted text, loop ...)
or a technique's complaint (TLR over budget) gets one re-ask with a short reminder; then a
technique repairs (TLR trims, TDO restores). When no usable candidate came back and a reply was
unchanged (or already rejected), the unchanged fallback (`dlpo.optim.fallback`) asks for one new
sentence and appends it; only then does the step fail, keeping the current prompt, and the report
says why. Engine errors (EngineError, BudgetExceeded) propagate.

`update_format="json"` asks an engine with structured output (`supports_json_schema`) for a JSON
list of sentence edits (`dlpo.optim.structured`); other engines, and replies that are not such an
object, are read as tag replies.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from dlpo.engines.client import LLMClient
from dlpo.errors import ConfigError
from dlpo.optim import fallback
from dlpo.optim.acceptance import AlwaysAccept
from dlpo.optim.base import (
    AcceptanceRule,
    Decision,
    Gradient,
    StepOutcome,
    Technique,
    UpdateContext,
    activity_of,
    check_order,
    replan_all,
    section_order,
)
from dlpo.optim.fallback_step import run_fallback
from dlpo.optim.masking import leaked_values
from dlpo.optim.parsing import reask_hint, reject_reason
from dlpo.optim.report import StepReport
from dlpo.optim.request import update_request, with_reminder
from dlpo.optim.sentences import sentence_diff, text_stats
from dlpo.optim.structured import JSON_SYSTEM, supports_json_schema
from dlpo.optim.update_ask import Ask, build_ask, copied_from_request, normalized, read_candidate
from dlpo.optim.variable import Prompt
from dlpo.runs.checkpoint import rng_state_from_json, rng_state_to_json

__all__ = ["ScoreFn", "StepReport", "TextualGradientDescent"]

ScoreFn = Callable[[str], Awaitable[float]]
REMEMBER_REJECTED = 16
ALREADY_REJECTED = "already rejected: the same prompt was proposed at an earlier step and turned down"
UpdateFormat = Literal["tags", "json"]
UPDATE_FORMATS: tuple[str, ...] = ("tags", "json")


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
        update_format: UpdateFormat = "json",
        unchanged_fallback: bool = True,
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
        if update_format not in UPDATE_FORMATS:
            raise ConfigError(
                f"unknown update_format {update_format!r}; allowed: {', '.join(UPDATE_FORMATS)}"
            )
        self.update_format = update_format
        self.unchanged_fallback = unchanged_fallback
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

    @property
    def json_updates(self) -> bool:
        """JSON edit replies are asked for: the option is on and the engine supports structured output."""
        return self.update_format == "json" and supports_json_schema(getattr(self.client, "engine", None))

    def _edit_budget(self, ctx: UpdateContext) -> int | None:
        """TLR's budget for this step (None without TLR, or when TLR asks for bold changes)."""
        for tech in self.techniques:
            budget = getattr(tech, "budget", None)
            if tech.name == "tlr" and callable(budget) and not ctx.notes.get("tlr_bold"):
                return int(budget(ctx))
        return None

    def _request(self, ctx: UpdateContext, grad: Gradient, sections: Sequence[Any]) -> Ask:
        return build_ask(
            ctx,
            grad,
            sections,
            role_description=self.prompt.role_description,
            json_updates=self.json_updates,
            edit_budget=self._edit_budget(ctx),
        )

    async def _ask(self, ask: Ask, message: str, reask: bool = False) -> tuple[str, str]:
        temperature = max(self.temperature, self.reask_temperature) if reask else self.temperature
        request = update_request(
            message,
            max_tokens=self.max_tokens,
            temperature=temperature,
            seed=self.seed + self.step_count,
            json_schema=ask.schema,
            system=JSON_SYSTEM if ask.schema is not None else None,
        )
        [completion] = await self.client.complete([request], role=self.role)
        return completion.text, completion.finish_reason

    def _usable(
        self, ask: Ask, reply: tuple[str, str], current: str, grad: Gradient, log: list[dict[str, Any]]
    ) -> str | None:
        read = read_candidate(ask, *reply, current)
        candidate, reason = read.candidate, read.reason
        if candidate is not None:
            reason = (
                self._reject(candidate, current, grad)
                or copied_from_request(candidate, current, ask.scaffold)
                or ""
            )
        log.append(
            {"method": read.method, "finish_reason": reply[1], "reason": reason or "ok"} | read.repairs
        )
        return candidate if not reason else None

    def _reject(self, candidate: str, current: str, grad: Gradient) -> str | None:
        reason = reject_reason(
            candidate,
            current=current,
            sources=grad.sources,
            feedback=grad.text,
            max_words=self.max_prompt_words,
        )
        if reason is None and normalized(candidate) in {normalized(r) for r in self.rejected}:
            return ALREADY_REJECTED
        leaked = leaked_values(candidate, current, grad.values) if grad.values is not None else []
        if reason is None and leaked:
            return f"pasted example: the candidate states a value from the batch ({leaked[0]!r})"
        return reason

    def _check(
        self, ctx: UpdateContext, candidate: str, reask_allowed: bool
    ) -> tuple[str, str | None, str, dict]:
        ctx.notes["reask_allowed"] = reask_allowed
        metrics: dict[str, Any] = {}
        violations: dict[str, int] = {}
        reask, by = None, ""
        for tech in sorted(self.techniques, key=check_order):  # repairs first, then measurements
            result = tech.check(ctx, candidate)
            candidate = result.candidate
            metrics.update(result.metrics)
            violations[tech.name] = result.violations
            if result.reask and reask is None and reask_allowed:
                reask, by = result.reask, tech.name
        metrics["violations"] = violations
        return candidate, reask, by, metrics

    async def step(self) -> StepReport:
        """One update: request, reply, parse, check/repair, fallback, score, accept, observe."""
        grad = self.prompt.grad
        if grad is None:
            raise RuntimeError("step() needs prompt.grad: call `await loss.backward(client)` first")
        current = self.prompt.text
        ctx = UpdateContext(step=self.step_count, prompt=current, gradient=grad, rng=self.rng, lr=self.lr)
        sections = [s for t in sorted(self.techniques, key=section_order) for s in t.sections(ctx)]
        ask = self._request(ctx, grad, sections)
        message = ask.message
        replies: list[str] = []
        parse_log: list[dict[str, Any]] = []
        metrics: dict[str, Any] = {
            "lr": self.lr,
            "sections": [s.technique for s in sections],
            "update_format": "json" if ask.schema is not None else "tags",
        }

        async def send(msg: str) -> tuple[str, str]:
            reply = await self._ask(ask, msg, reask=bool(replies))
            replies.append(reply[0])
            return reply

        final: str | None = None
        first = self._usable(ask, await send(message), current, grad, parse_log)
        if first is None:
            ctx.notes["reask_by"] = "parse"
            hint = ask.reminder(reask_hint(parse_log[-1]["reason"]))
            second = self._usable(ask, await send(with_reminder(message, hint)), current, grad, parse_log)
            if second is not None:
                final, _, _, check_metrics = self._check(ctx, second, reask_allowed=False)
                metrics.update(check_metrics)
        else:
            repaired, reask, by, check_metrics = self._check(ctx, first, reask_allowed=True)
            if reask is None:
                final = repaired
            else:
                ctx.notes["reask_by"] = by
                msg = with_reminder(message, ask.reminder(reask))
                second = self._usable(ask, await send(msg), current, grad, parse_log)
                final, _, _, check_metrics = self._check(ctx, second if second is not None else first, False)
            metrics.update(check_metrics)
        metrics["reask_by"] = ctx.notes.get("reask_by")
        if final is not None:
            final = self._with_conventions(final, grad, metrics)
            late = self._reject(final, current, grad)
            if late is not None:
                parse_log.append({"method": "after_checks", "finish_reason": "", "reason": late})
                final = None
        if (
            final is None
            and self.unchanged_fallback
            and (fallback.triggered([p["reason"] for p in parse_log]) or fallback.conventions(grad, current))
        ):
            final = await run_fallback(self, ctx, grad, current, metrics, parse_log)
        metrics["parse"] = parse_log
        metrics["reasks"] = len(replies) - 1
        return await self._finish(ctx, grad, current, final, message, replies, metrics)

    def _with_conventions(self, candidate: str, grad: Gradient, metrics: dict[str, Any]) -> str:
        """Under `feedback: facts`, the task conventions the candidate does not state are added to it
        (they are true of every training answer, so stating them is never wrong, and a small model
        that was shown them may still leave them out). Code's addition, not the model's edit: TLR has
        measured the model's edits already."""
        candidate, added = fallback.with_conventions(candidate, grad.task_facts)
        if added:
            metrics["conventions_added"] = added
        return candidate

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
        status = "reasked" if len(replies) > 1 else "ok"
        metrics["parse_status"] = (
            "failed" if final is None else ("fallback" if "fallback" in metrics else status)
        )
        metrics.update({f"prompt_{k}": v for k, v in text_stats(self.prompt.text).items()})
        return StepReport(ctx.step, outcome, decision, message, replies, metrics, failed=final is None)

    def activity(self) -> dict[str, dict[str, int]]:
        """What each technique and the acceptance rule did so far, by technique id."""
        out = {t.name: activity_of(t) for t in self.techniques}
        rule = activity_of(self.acceptance)
        if rule:
            out[getattr(self.acceptance, "technique", self.acceptance.name)] = rule
        return out

    def replan(self, planned_steps: int) -> None:
        """The run will take `planned_steps` steps (`dlpo.training.step_plan`): techniques and the
        acceptance rule whose schedules scale with the run follow (`optim.base.Replannable`)."""
        replan_all([*self.techniques, self.acceptance], planned_steps)

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
