"""The warm start (`warm_start="induce"`): one induction call, counted under its own role, whose
prompt states the task conventions and copies no training example; every method records the
original and the induced prompt with their validation and test scores."""

from __future__ import annotations

import json
import re

import pytest

from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.engines.scripted import ScriptedEngine
from dlpo.optim.induction import ROLE, check_induced, choose_pairs, induce, induction_request
from dlpo.runs.events import read_events
from dlpo.tasks.base import Example, Task
from dlpo.tasks.conventions import CONVENTIONS_HEADER, task_facts
from dlpo.tasks.scoring import make_scorer
from dlpo.train import afit

from .scripted_setup import backward_reply, engines, make_config, make_task

INDUCED = "Add the two numbers carefully. Check every sum carefully. Write each sum down carefully."


def inducing_backward(request: ChatRequest) -> str:
    if "training inputs with their correct outputs" in request.messages[-1].content:
        return f"<IMPROVED_VARIABLE>{INDUCED}</IMPROVED_VARIABLE>"
    return backward_reply(request)


async def run(tmp_path, preset, **kw):
    fwd, _ = engines()
    bwd = ScriptedEngine(inducing_backward, name="bwd")
    cfg = make_config(preset, steps=2, warm_start="induce", **kw)
    result = await afit(
        cfg, run_dir=tmp_path / preset, task=make_task(), forward_engine=fwd, backward_engine=bwd
    )
    return result, read_events(tmp_path / preset / "events.jsonl"), bwd


@pytest.mark.parametrize("preset", ["tgd", "dlpo", "textgrad", "apo", "human"])
async def test_every_method_records_both_prompts_with_their_scores(tmp_path, preset):
    kw = (
        {"method_options": {"minibatch": 3, "n_gradients": 1, "eval_rounds": 1, "samples_per_eval": 2}}
        if preset == "apo"
        else {}
    )
    result, events, bwd = await run(tmp_path, preset, **kw)
    ws = result.warm_start
    assert ws is not None and ws["original"]["prompt"] == "Solve the problem."
    assert ws["induced"]["prompt"] == INDUCED
    for part in ("original", "induced"):
        assert ws[part]["val"] is not None and ws[part]["test"] is not None
    assert ws["induced"]["val"] != ws["original"]["val"]  # the scripted model likes "carefully"
    if preset == "human":  # evaluates its given prompt; the induced one is scored beside it
        assert not ws["used"] and result.start.prompt == "Solve the problem."
    else:
        assert ws["used"] and result.start.prompt == INDUCED
        assert ws["induced"]["val"] == result.start.val and ws["induced"]["test"] == result.start.test
        tests = {e["which"]: e["score"] for e in events if e["type"] == "test"}
        assert tests["original"] == ws["original"]["test"]
    assert next(e for e in events if e["type"] == "warm_start")["induced"]["prompt"] == INDUCED
    saved = json.loads((tmp_path / preset / "result.json").read_text())
    assert saved["warm_start"] == ws
    inductions = [r for r in bwd.requests if "training inputs" in r.messages[-1].content]
    assert len(inductions) == 1
    usage = [e for e in events if e["type"] == "usage"][-1]["roles"]
    assert usage[ROLE]["calls"] == 1
    assert json.loads((tmp_path / preset / "config.json").read_text())["warm_start"] == "induce"


async def test_without_a_warm_start_nothing_is_induced(tmp_path):
    fwd, bwd = engines()
    result = await afit(
        make_config("tgd", steps=1),
        run_dir=tmp_path / "r",
        task=make_task(),
        forward_engine=fwd,
        backward_engine=bwd,
    )
    assert result.warm_start is None and "warm_start" not in json.loads(
        (tmp_path / "r" / "result.json").read_text()
    )


def label_task() -> Task:
    labels = ["billing", "account-access", "shipping"]
    train = [
        Example(f"t{k}", f"Customer message {k}: my order number {100 + k} is late", labels[k % 3])
        for k in range(9)
    ]
    return Task(
        "tickets",
        train,
        train[:2],
        train[:2],
        make_scorer("exact"),
        answer_instruction="End with 'Answer: <label>'.",
    )


def test_the_induction_request_states_the_conventions_and_covers_every_label():
    task = label_task()
    facts = task_facts(task)
    pairs = choose_pairs(task.train, facts, seed=0, k=3)
    assert {ex.target for ex in pairs} == {"billing", "account-access", "shipping"}
    user = induction_request(task, pairs, facts, seed=0).messages[-1].content
    assert CONVENTIONS_HEADER in user and "'account-access'" in user and "State the task conventions" in user
    assert all(ex.input in user for ex in pairs) and "End with 'Answer: <label>'." in user


def test_an_induced_prompt_may_not_copy_training_content():
    task = label_task()
    facts = task_facts(task)
    pairs = choose_pairs(task.train, facts, seed=0, k=3)
    ok = "Classify the customer message. Reply with one label: billing, account-access or shipping."
    assert check_induced(ok, "You will answer a question.", pairs, facts, 300) is None
    pasted = f"Classify messages like this one: {pairs[0].input}"
    assert check_induced(pasted, "You will answer a question.", pairs, facts, 300).startswith(
        "pasted example"
    )
    number = re.search(r"\d{3}", pairs[0].input).group(0)
    leaked = f"Classify the message. Order {number} is billing."
    assert "pasted example" in check_induced(leaked, "You will answer a question.", pairs, facts, 300)


async def test_an_unusable_induction_is_asked_again_then_given_up():
    task = label_task()
    facts = task_facts(task)
    pasted = f"<IMPROVED_VARIABLE>Answer like this: {task.train[0].input}</IMPROVED_VARIABLE>"
    engine = ScriptedEngine(
        [pasted, "<IMPROVED_VARIABLE>Label the message by its topic.</IMPROVED_VARIABLE>"]
    )
    client = LLMClient(engine)
    out = await induce(client, task, task.train, facts, seed=0, original="You will answer a question.")
    assert out.prompt == "Label the message by its topic." and len(out.replies) == 2
    assert engine.requests[1].temperature > 0 and "not usable" in engine.requests[1].messages[-1].content
    assert client.ledger.roles[ROLE].calls == 2
    engine = ScriptedEngine([pasted, pasted])
    failed = await induce(LLMClient(engine), task, task.train, facts, seed=0, original="x")
    assert failed.prompt is None and failed.reason.startswith("pasted example")


async def test_an_induced_prompt_loses_the_conventions_header_it_copied():
    """The induction request shows the conventions under their header; a prompt that copies the
    header along with the lines keeps the lines only (`repair_candidate`, as for every candidate)."""
    task = label_task()
    facts = task_facts(task)
    reply = f"<IMPROVED_VARIABLE>Label the message by its topic.\n{CONVENTIONS_HEADER}\n- Reply with the label only.</IMPROVED_VARIABLE>"
    out = await induce(LLMClient(ScriptedEngine([reply])), task, task.train, facts, seed=0, original="x")
    assert out.prompt == "Label the message by its topic.\n- Reply with the label only."
