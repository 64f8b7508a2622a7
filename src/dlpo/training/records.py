"""Event payloads: what the loop writes to `events.jsonl` for evaluations, steps and usage."""

from __future__ import annotations

from typing import Any

from dlpo.evaluation import EvalResult
from dlpo.optim.base import Gradient
from dlpo.runs.events import EventLog
from dlpo.usage import Ledger


def eval_payload(result: EvalResult, *, outputs: bool = False) -> dict[str, Any]:
    """Mean score, size and per-example scores (and outputs/reasons when asked) of an evaluation."""
    payload: dict[str, Any] = {
        "score": result.mean,
        "n": result.n,
        "ids": [r.example.id for r in result.results],
        "scores": result.scores(),
        # answers that hit the max_tokens cap ("length"): the limit, not the prompt, may decide them
        "cut_off": result.cut_off,
    }
    if outputs:
        payload["outputs"] = [r.output for r in result.results]
        payload["answers"] = [r.score.answer for r in result.results]
        payload["reasons"] = [r.score.reason for r in result.results]
        payload["finish_reasons"] = [r.finish_reason for r in result.results]
    return payload


def run_options(s: Any) -> dict[str, Any]:
    """The run options every method applies (docs/feedback.md) and the task conventions drawn from
    the train split, for the "start" event (`s` is a `training.session.Session`)."""
    c = s.config
    facts = s.feedback.task
    return {
        "run_options": {
            "feedback": c.feedback,
            "skip_correct_batches": c.skip_correct_batches,
            "warm_start": c.warm_start,
            "update_format": c.update_format,
        },
        "task_facts": facts.to_dict() if facts is not None else None,
    }


def gradient_payload(grad: Gradient) -> dict[str, Any]:
    return {"text": grad.text, "critiques": list(grad.critiques), "batch_score": grad.batch_score}


def usage_payload(ledger: Ledger) -> dict[str, Any]:
    """Per-role and total usage. `requests` (every request, however answered) and
    `calls_alone`/`tokens_alone`/`usd_alone` (what the run's work costs alone: model calls, shared
    hits and replayed calls, see `dlpo.usage`) are what a resumed run reproduces exactly;
    `calls`/`cache_hits`/`replayed`/tokens/`usd` depend on what the caches already held."""

    def role(u: Any) -> dict[str, Any]:
        return {
            "requests": u.requests,
            "calls": u.calls,
            "cache_hits": u.cache_hits,
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "latency_s": round(u.latency_s, 3),
            "usd": round(u.usd, 6),
            "shared_hits": u.shared_hits,
            "replayed": u.replayed,
            "calls_alone": u.calls_alone,
            "tokens_alone": u.tokens_alone,
            "usd_alone": round(u.usd_alone, 6),
        }

    return {
        "roles": {name: role(u) for name, u in sorted(ledger.roles.items())},
        "total": role(ledger.total()),
        # per model id, the llama-server builds whose answers the run used (empty: none recorded,
        # e.g. a remote API or answers cached before builds were recorded)
        "builds": {model: sorted(b) for model, b in sorted(ledger.builds.items())},
    }


def decision_status(accepted: bool | None, failed: bool, skipped: bool = False) -> str:
    """How a step's decision reads in displays and reports: skipped (an all-correct batch), failed
    (no usable candidate), accepted or rejected; "-" before any decision."""
    if skipped:
        return "skipped"
    if failed:
        return "failed"
    if accepted is None:
        return "-"
    return "accepted" if accepted else "rejected"


def emit_step_events(log: EventLog, report: Any, step: int) -> dict[str, Any]:
    """Write the update request, candidate, measured edits and decision of training step `step`
    (1-based; `report` is the `optim.optimizer.StepReport`); returns the decision payload."""
    outcome, decision = report.outcome, report.decision
    log.emit("update_request", step, request=report.request)
    log.emit(
        "candidate",
        step,
        candidate=outcome.candidate,
        raw_replies=list(report.raw_replies),
        failed=report.failed,
        parse=report.metrics.get("parse"),
    )
    log.emit("edits", step, metrics=dict(report.metrics))
    payload = {
        "accepted": outcome.accepted,
        "failed": report.failed,
        "reason": decision.reason if decision is not None else outcome.reason,
        "delta": decision.delta if decision is not None else None,
        "temperature": decision.temperature if decision is not None else None,
        "probability": decision.probability if decision is not None else None,
        "score_before": outcome.score_before,
        "score_candidate": outcome.score_candidate,
    }
    log.emit("decision", step, **payload)
    return payload
