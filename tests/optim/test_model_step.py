"""One real optimizer step: forward 0.5B, backward/optimizer 1.5B, on 3 demo examples (mechanics only).

The 1.5B model is a weak optimizer (local-llm.md): the step may be accepted, rejected or failed;
this test asserts that the loop completes and reports, not that the prompt improves.
"""

from __future__ import annotations

import json

import pytest

from dlpo.cache import ResponseCache
from dlpo.engines.client import LLMClient
from dlpo.engines.spec import build_engine
from dlpo.evaluation import evaluate
from dlpo.optim.acceptance import auto_schedule
from dlpo.optim.loss import textual_loss
from dlpo.optim.optimizer import StepReport
from dlpo.optim.presets import build_optimizer, resolve_recipe
from dlpo.optim.variable import Prompt
from dlpo.tasks.registry import load_task
from dlpo.usage import Ledger

pytestmark = pytest.mark.model


async def test_one_real_dlpo_step(small_model_path, large_model_path, tmp_path):
    task = load_task("demo")
    batch = task.train[:3]
    cache, ledger = ResponseCache(tmp_path / "cache.sqlite"), Ledger()
    forward = LLMClient(build_engine("local:qwen2.5-0.5b"), cache=cache, ledger=ledger)
    backward = LLMClient(build_engine("local:qwen2.5-1.5b", role="backward"), cache=cache, ledger=ledger)

    async def score_fn(
        text: str,
    ) -> float:  # acceptance set = the batch (the current prompt's pass is cached)
        return (await evaluate(forward, task, text, batch, role="acceptance", max_tokens=160)).mean

    prompt = Prompt(task.initial_prompt)
    opt, schedulers = build_optimizer(
        resolve_recipe("dlpo"), prompt, backward, score_fn=score_fn, seed=0, max_tokens=300
    )
    loss = await textual_loss(forward, task, prompt, batch, max_tokens=160)
    grad = await loss.backward(backward, critique_max_tokens=150, reduction_max_tokens=200)
    assert grad.text.strip() and len(grad.critiques) == 3
    report = await opt.step()
    for s in schedulers:
        s.step(report)

    assert isinstance(report, StepReport) and report.step == 0 and opt.step_count == 1
    assert 1 <= len(report.raw_replies) <= 2 and "<VARIABLE>" in report.request
    assert (
        report.metrics["edits_budget"] == 4
        if not report.failed
        else report.metrics["parse_status"] == "failed"
    )
    if report.failed:
        assert prompt.text == task.initial_prompt and report.decision is None
    else:
        # TSA's temperature scaled to a run of unknown length (8 planned steps): its first value
        assert report.decision is not None and report.decision.temperature == auto_schedule(8)[0]
        assert report.outcome.score_before == loss.result.mean  # real baseline (not 0)
        assert prompt.text == (report.outcome.candidate if report.accepted else task.initial_prompt)
    roles = ledger.roles
    n_wrong = sum(not r.score.correct for r in loss.result.results)
    # one critique per wrong example, one reduction when two or more were wrong
    assert roles["forward"].calls == 3
    assert (
        roles["backward"].calls == n_wrong + (1 if n_wrong >= 2 else 0)
        if n_wrong
        else "backward" not in roles
    )
    fallback_calls = report.metrics.get("fallback", {}).get("calls", 0)  # one-sentence requests
    assert roles["optimizer"].calls == len(report.raw_replies) + fallback_calls
    json.dumps(report.to_dict())
    json.dumps(opt.state_dict())
    print(
        "\nstep report:",
        json.dumps({k: v for k, v in report.to_dict().items() if k != "request"}, indent=1)[:3000],
    )


async def test_a_capped_real_answer_is_reported_as_cut_off(small_model_path, tmp_path):
    """The real engine's finish_reason reaches the facts: a 3-token cap cuts every reply."""
    from dlpo.optim.facts import OBSERVED, observations

    task = load_task("demo")
    client = LLMClient(build_engine("local:qwen2.5-0.5b"), cache=ResponseCache(tmp_path / "c.sqlite"))
    prompt = "Explain every step in detail before you answer."
    result = await evaluate(client, task, prompt, task.train[:2], max_tokens=3)
    assert [r.finish_reason for r in result.results] == ["length", "length"]
    assert all(OBSERVED["cut_off"] in observations(r) for r in result.results if not r.score.correct)
