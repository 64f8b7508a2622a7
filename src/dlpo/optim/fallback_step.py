"""The unchanged fallback's step (`dlpo.optim.fallback` holds its pure parts): when the optimizer
model's replies give no usable candidate, state an unstated task convention verbatim, else ask for
one new sentence for the most frequent problem, else use a fix hint verbatim; every candidate is
checked like a model's (technique checks, rejections)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dlpo.optim import fallback
from dlpo.optim.base import Gradient, UpdateContext
from dlpo.optim.facts import echoes

if TYPE_CHECKING:
    from dlpo.optim.optimizer import TextualGradientDescent


async def run_fallback(
    opt: TextualGradientDescent,
    ctx: UpdateContext,
    grad: Gradient,
    current: str,
    metrics: dict[str, Any],
    log: list[dict[str, Any]],
) -> str | None:
    """The unchanged fallback (`dlpo.optim.fallback`): an unstated task convention verbatim, else
    one new sentence for the most frequent problem (greedy, then sampled on the next problem),
    else a fix hint or suggestion verbatim; appended in code, then checked like any candidate."""
    problems = fallback.problems(grad)
    tried: list[dict[str, Any]] = []
    method: str | None = None
    final = _first_verbatim(opt, ctx, grad, current, fallback.conventions(grad, current), tried)
    if final is not None:
        method = "convention"
    for k in range(0 if final is not None else 2):
        request = fallback.sentence_request(
            current,
            problems[min(k, len(problems) - 1)],
            seed=opt.seed + opt.step_count,
            temperature=0.0 if k == 0 else max(opt.reask_temperature, 0.1),
            sample_index=k,
        )
        [completion] = await opt.client.complete([request], role=opt.role)
        sentence = fallback.parse_sentence(completion.text)
        entry: dict[str, Any] = {"reply": completion.text, "sentence": sentence, "reason": "unparsed"}
        tried.append(entry)
        if sentence is not None:
            final = _fallback_candidate(opt, ctx, grad, current, sentence, entry)
        if final is not None:
            method = "sentence"
            break
    if final is None:
        final = _first_verbatim(opt, ctx, grad, current, fallback.verbatim_fixes(grad, current), tried)
        if final is not None:
            method = "hint"
    calls = sum(t["reply"] is not None for t in tried)
    if final is not None:
        metrics.update(tried[-1].get("checks", {}))
    metrics["fallback"] = {"method": method, "calls": calls, "tried": tried}
    reason = "ok" if final is not None else "fallback: no usable new sentence"
    log.append({"method": f"fallback:{method or 'none'}", "finish_reason": "", "reason": reason})
    return final


def _first_verbatim(
    opt: TextualGradientDescent,
    ctx: UpdateContext,
    grad: Gradient,
    current: str,
    sentences: Sequence[str],
    tried: list[dict[str, Any]],
) -> str | None:
    """The first of `sentences` (written by code, no model call) whose candidate passes the
    checks; every sentence tried is recorded in `tried`."""
    for sentence in sentences:
        entry: dict[str, Any] = {"reply": None, "sentence": sentence}
        tried.append(entry)
        final = _fallback_candidate(opt, ctx, grad, current, sentence, entry)
        if final is not None:
            return final
    return None


def _fallback_candidate(
    opt: TextualGradientDescent,
    ctx: UpdateContext,
    grad: Gradient,
    current: str,
    sentence: str,
    entry: dict[str, Any],
) -> str | None:
    """The prompt with `sentence` appended, after the technique checks (their metrics go to
    `entry`), or None when it is not usable (`entry["reason"]` says why)."""
    if echoes(sentence, current):
        entry["reason"] = "echo: the sentence only repeats the prompt"
        return None
    checked, _, _, check_metrics = opt._check(ctx, fallback.append_sentence(current, sentence), False)
    why = opt._reject(checked, current, grad)
    entry["reason"] = why or "ok"
    entry["checks"] = check_metrics
    return checked if why is None else None
