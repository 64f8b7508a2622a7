"""Instruction induction on the real 1.5B model writes a starting prompt for a label file task
(the case where the generic "You will answer a question." made the 0.5B model reply to the text
instead of labelling it)."""

from __future__ import annotations

import json

import pytest

from dlpo.cache import ResponseCache
from dlpo.engines.client import LLMClient
from dlpo.engines.spec import build_engine
from dlpo.optim.induction import ROLE, check_induced, choose_pairs, induce
from dlpo.tasks.conventions import task_facts
from dlpo.tasks.files import DEFAULT_PROMPT, load_task_file

pytestmark = pytest.mark.model

ROWS = [
    ("I was charged twice for my subscription this month.", "billing"),
    ("I cannot log in, the password reset link never arrives.", "account-access"),
    ("My parcel has been stuck in transit for ten days.", "shipping"),
    ("Why is there an extra fee on my last invoice?", "billing"),
    ("My account got locked after three wrong passwords.", "account-access"),
    ("The courier left my package at the wrong address.", "shipping"),
    ("Please refund the duplicate payment.", "billing"),
    ("Two-factor codes do not reach my phone.", "account-access"),
    ("When will my order ship?", "shipping"),
    ("The invoice shows the wrong VAT number.", "billing"),
]


async def test_induction_writes_a_prompt_for_a_label_task(large_model_path, tmp_path):
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(json.dumps({"input": i, "target": t}) for i, t in ROWS) + "\n")
    task = load_task_file(path, scorer="exact", split_sizes=(7, 1, 2))
    facts = task_facts(task)
    assert facts.kind == "label" and set(facts.labels) <= {"billing", "account-access", "shipping"}
    engine = build_engine({"kind": "local", "model": "qwen2.5-1.5b", "slots": 1}, role="backward")
    client = LLMClient(engine, cache=ResponseCache(tmp_path / "cache.sqlite"))
    try:
        out = await induce(client, task, task.train, facts, seed=0, original=DEFAULT_PROMPT)
    finally:
        await engine.aclose()
    print("\ninduced:", out.prompt, "\nreason:", out.reason, "\nreplies:", out.replies)
    assert out.prompt is not None and out.prompt != DEFAULT_PROMPT
    pairs = choose_pairs(task.train, facts, seed=0)
    assert check_induced(out.prompt, DEFAULT_PROMPT, pairs, facts, 300, task.train) is None
    assert client.ledger.roles[ROLE].calls == len(out.replies) <= 2
