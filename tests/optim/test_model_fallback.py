"""The unchanged fallback on the real optimizer: forward 0.5B on two demo questions, gradient and
fallback sentence from the 1.5B model, whose full rewrites are forced to come back unchanged (the
failure seen in the main job). The step must still end with a candidate that differs from the
current prompt, written by the real model (or, failing that, the fix hint appended)."""

from __future__ import annotations

import pytest

from dlpo.cache import ResponseCache
from dlpo.engines.client import LLMClient
from dlpo.engines.spec import build_engine
from dlpo.optim.fallback import SENTENCE_SYSTEM
from dlpo.optim.feedback import FeedbackPolicy
from dlpo.optim.loss import textual_loss
from dlpo.optim.presets import build_optimizer, resolve_recipe
from dlpo.optim.request import OPTIMIZER_SYSTEM
from dlpo.optim.variable import Prompt
from dlpo.tasks.conventions import task_facts
from dlpo.tasks.registry import load_task

pytestmark = pytest.mark.model


class UnchangedRewrites:
    """The real engine, except that every full rewrite returns the current prompt word for word."""

    def __init__(self, inner, prompt: str) -> None:
        self.inner, self.prompt, self.sentence_requests = inner, prompt, 0

    @property
    def cache_id(self) -> str:
        return self.inner.cache_id

    async def complete(self, requests):
        from dlpo.engines.base import Completion

        out = []
        for request in requests:
            system = request.messages[0].content
            if system == OPTIMIZER_SYSTEM:
                text = f"<IMPROVED_VARIABLE>\n{self.prompt}\n</IMPROVED_VARIABLE>"
                out.append(Completion(text, 1, 1, 0.0, model=self.cache_id))
                continue
            self.sentence_requests += system == SENTENCE_SYSTEM
            out.extend(await self.inner.complete([request]))
        return out

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_an_unchanged_rewrite_still_yields_a_new_candidate(
    small_model_path, large_model_path, tmp_path
):
    from dataclasses import replace

    task = load_task("demo")
    # The prompt already states the task's conventions, so the fallback cannot just state one of them
    # (tests/optim/test_fallback.py covers that path): the real model must write the new sentence.
    facts = task_facts(task)
    task = replace(task, initial_prompt=" ".join([task.initial_prompt, *facts.lines]))
    assert facts.unstated(task.initial_prompt) == []
    cache = ResponseCache(tmp_path / "cache.sqlite")
    fwd_engine = build_engine({"kind": "local", "model": "qwen2.5-0.5b", "slots": 1})
    bwd_engine = build_engine({"kind": "local", "model": "qwen2.5-1.5b", "slots": 1}, role="backward")
    wrapped = UnchangedRewrites(bwd_engine, task.initial_prompt)
    forward, backward = LLMClient(fwd_engine, cache=cache), LLMClient(wrapped, cache=cache)
    try:
        prompt = Prompt(task.initial_prompt)
        loss = await textual_loss(forward, task, prompt, task.train[:2], max_tokens=96)
        policy = FeedbackPolicy("facts", facts)
        await loss.backward(backward, critique_max_tokens=80, reduction_max_tokens=100, policy=policy)
        opt, _ = build_optimizer(resolve_recipe("tlr"), prompt, backward, score_fn=None, seed=0)
        report = await opt.step()
    finally:
        await fwd_engine.aclose()
        await bwd_engine.aclose()
        cache.close()
    reasons = [p["reason"] for p in report.metrics["parse"]]
    print("\nfallback:", report.metrics["fallback"], "\ncandidate:", report.outcome.candidate)
    assert reasons[0].startswith("unchanged") and reasons[1].startswith("unchanged")
    assert not report.failed and report.outcome.candidate != task.initial_prompt
    assert report.outcome.candidate.startswith(task.initial_prompt)  # one sentence appended
    assert report.metrics["fallback"]["method"] in ("sentence", "hint") and wrapped.sentence_requests >= 1
    assert report.metrics["edits_final"] == 1  # within TLR's budget
