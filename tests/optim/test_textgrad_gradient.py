"""The literal TextGrad gradient (`optim/textgrad_gradient.py`) and the `textgrad` preset.

Scripted engines check what each hop is shown and how hop 1's feedback reaches hop 2; a 1-step
`fit` checks the wiring and the config.json key; one real-model test runs the two hops on 0.5B.
"""

from __future__ import annotations

import json
import re

import pytest
from optim_helpers import SpyClient, make_task, user_text

from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.engines.scripted import ScriptedEngine
from dlpo.evaluation import EvalResult, ExampleResult
from dlpo.optim.loss import TextualLoss
from dlpo.optim.masking import mask_values
from dlpo.optim.presets import Recipe, resolve_recipe
from dlpo.optim.textgrad_gradient import compute_textgrad_gradient
from dlpo.optim.variable import Prompt
from dlpo.runs.events import read_events
from dlpo.tasks.base import Task
from dlpo.tasks.registry import load_task

PROMPT = "Answer the question. Show your steps."


def batch(task: Task) -> EvalResult:
    """Three examples: the first two answered wrong (distinct answers), the last one right."""
    outputs = ["I think 8. Answer: 8", "Answer: 10", f"Answer: {task.train[2].target}"]
    return EvalResult(
        tuple(ExampleResult(ex, out, task.score(out, ex)) for ex, out in zip(task.train, outputs))
    )


def is_hop2(request: ChatRequest) -> bool:
    return "<OUTPUT_FEEDBACK>" in user_text(request)


def scripted_backward(request: ChatRequest) -> str:
    """Hop 1 replies name the example's id-like question start; hop 2 replies echo hop 1's reply."""
    user = user_text(request)
    found = re.search(r"<(?:QUESTION|LM_INPUT)>\n(.*?)\n", user)
    if found is None:  # dlpo's reduction request
        return "- Show each step."
    question = found.group(1)
    key = question.split()[1]  # "Tom", "A", "Sara": distinct per example
    if is_hop2(request):
        fed = re.search(r"<OUTPUT_FEEDBACK>\n(.*?)\n</OUTPUT_FEEDBACK>", user, re.DOTALL).group(1)
        return f"PROMPT-FEEDBACK[{key}] given <{fed}>"
    return f"response-feedback-{key}"


async def test_two_hops_over_every_example_and_concatenation():
    task = make_task()
    result = batch(task)
    engine = ScriptedEngine(scripted_backward)
    client = SpyClient(engine)
    grad = await compute_textgrad_gradient(client, Prompt(PROMPT), task, result, critique_max_tokens=77)

    n = len(result.results)
    assert client.batches == [("backward", n), ("backward", n)]  # two concurrent batches, no reduction
    assert client.ledger.roles["backward"].calls == 2 * n
    hop1, hop2 = engine.requests[:n], engine.requests[n:]
    assert not any(is_hop2(r) for r in hop1) and all(is_hop2(r) for r in hop2)
    assert all(r.max_tokens == 77 and r.temperature == 0.0 for r in engine.requests)
    for item, req in zip(result.results, hop1):  # hop 1: question, response, evaluation (correct ones too)
        text = user_text(req)
        assert task.format_input(item.example) in text and item.output in text
        assert f"Expected answer: {item.example.target}" in text
        assert ("correct (1)" if item.score.correct else "incorrect (0)") in text
        assert PROMPT not in text  # hop 1 critiques the response, not the prompt
    for item, req in zip(result.results, hop2):  # hop 2: prompt + forward call + hop 1 of the same example
        text, key = user_text(req), item.example.input.split()[1]
        assert PROMPT in text and Prompt(PROMPT).role_description in text
        assert item.example.input in text and item.output in text
        assert f"response-feedback-{key}" in text
        others = [e.input.split()[1] for e in task.train if e is not item.example]
        assert not any(f"response-feedback-{o}\n" in text for o in others)

    expected = [
        f"PROMPT-FEEDBACK[{e.input.split()[1]}] given <response-feedback-{e.input.split()[1]}>"
        for e in task.train
    ]
    assert list(grad.critiques) == expected
    positions = [grad.text.index(f) for f in expected]
    assert positions == sorted(positions)  # every hop-2 feedback, in batch order
    assert grad.text.count("<EXAMPLE_FEEDBACK>") == n and f"example 3 of {n}" in grad.text
    assert grad.batch_score == pytest.approx(result.mean) and 0 < result.mean < 1
    assert task.train[0].input in grad.sources and "I think 8. Answer: 8" in grad.sources


async def test_loss_backward_dispatches_on_gradient():
    task = make_task()
    engine = ScriptedEngine(scripted_backward)
    client = LLMClient(engine)
    prompt = Prompt(PROMPT)
    loss = TextualLoss(prompt=prompt, task=task, result=batch(task))
    grad = await loss.backward(client, gradient="textgrad")
    assert prompt.grad is grad and len(engine.requests) == 6
    assert grad.critiques[0].startswith("PROMPT-FEEDBACK[")
    with pytest.raises(ValueError, match="allowed: dlpo, textgrad"):
        await loss.backward(client, gradient="textgard")
    engine.requests.clear()
    dlpo_grad = await loss.backward(client, gradient="dlpo")  # the engineered gradient: no hop 2
    assert not any(is_hop2(r) for r in engine.requests)
    assert not dlpo_grad.text.startswith("Feedback on the prompt")


async def test_empty_batch_is_an_error():
    client = LLMClient(ScriptedEngine(lambda r: "x"))
    with pytest.raises(ValueError, match="empty batch"):
        await compute_textgrad_gradient(client, Prompt(PROMPT), make_task(), EvalResult(()))


def test_preset_resolves_and_dump_omits_the_default():
    r = resolve_recipe("textgrad")
    assert (r.name, r.techniques, r.acceptance, r.gradient) == ("textgrad", [], "always", "textgrad")
    assert r.model_dump(mode="json")["gradient"] == "textgrad"
    assert Recipe(**r.model_dump()) == r  # round trip
    with_tech = resolve_recipe("textgrad", "tlr")
    assert with_tech.gradient == "textgrad" and with_tech.name == "textgrad+tlr"
    for name in ("tgd", "dlpo"):
        assert resolve_recipe(name).gradient == "dlpo"
        assert "gradient" not in resolve_recipe(name).model_dump()
        assert "gradient" not in resolve_recipe(name).model_dump(mode="json")
    assert resolve_recipe("tgd", gradient="textgrad").gradient == "textgrad"


def demo_forward(request: ChatRequest) -> str:
    """Wrong on purpose unless the prompt mentions 'carefully': the first number of the question."""
    numbers = re.findall(r"\d+", user_text(request))
    return f"Answer: {numbers[0] if numbers else 0}"


def demo_backward(request: ChatRequest) -> str:
    everything = "\n".join(m.content for m in request.messages)
    if "IMPROVED_VARIABLE" in everything:
        return "<IMPROVED_VARIABLE>Solve the problem carefully, step by step.</IMPROVED_VARIABLE>"
    if is_hop2(request):
        return "The system prompt should ask for each step of the arithmetic."
    return "The response gives a number from the question instead of computing the result."


@pytest.mark.parametrize("preset", ["textgrad", "dlpo"])
async def test_one_step_fit_on_the_demo_task(tmp_path, preset):
    from dlpo.train import TrainConfig, afit

    config = TrainConfig.build(
        task="demo",
        recipe=resolve_recipe(preset),
        steps=1,
        batch_size=2,
        val_limit=2,
        test_limit=2,
        acceptance_set=2,
        seed=0,
    )
    fwd, bwd = ScriptedEngine(demo_forward, name="fwd"), ScriptedEngine(demo_backward, name="bwd")
    await afit(
        config, run_dir=tmp_path / "run", task=load_task("demo"), forward_engine=fwd, backward_engine=bwd
    )

    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    events = read_events(tmp_path / "run" / "events.jsonl")
    [grad] = [e for e in events if e["type"] == "gradient"]
    hop2 = [r for r in bwd.requests if is_hop2(r)]
    if preset == "textgrad":
        assert saved["recipe"]["gradient"] == "textgrad"
        assert len(hop2) == 2 and len(bwd.requests) == 2 * 2 + 1  # 2 hops x batch + 1 update
        assert "The system prompt should ask for each step" in json.dumps(grad)
        [decision] = [e for e in events if e["type"] == "decision"]
        assert decision["accepted"]  # always accept
    else:
        assert "gradient" not in saved["recipe"] and not hop2


@pytest.mark.model
async def test_textgrad_gradient_on_the_real_model(small_model_path):
    from dlpo.engines.spec import build_engine

    task = load_task("demo")
    examples = task.train[:2]
    outputs = [f"{examples[0].target} is the total.\nAnswer: {examples[0].target}", "Answer: 3"]
    result = EvalResult(tuple(ExampleResult(ex, o, task.score(o, ex)) for ex, o in zip(examples, outputs)))
    client = LLMClient(build_engine("local:qwen2.5-0.5b", role="backward"))
    try:
        grad = await compute_textgrad_gradient(
            client, Prompt(task.initial_prompt), task, result, critique_max_tokens=48
        )
    finally:
        await client.aclose()
    assert client.ledger.roles["backward"].calls == 4
    assert len(grad.critiques) == 2 and all(c.strip() for c in grad.critiques)
    # the concatenated feedback is the critiques with the batch's per-example values masked
    assert all(mask_values(c, grad.values) in grad.text for c in grad.critiques)
