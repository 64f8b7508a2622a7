from conftest import SpyClient, user_text

from dlpo.engines.scripted import ScriptedEngine
from dlpo.optim.gradient import CRITIC_SYSTEM, answer_excerpt
from dlpo.optim.loss import textual_loss
from dlpo.optim.variable import Prompt


def forward_script(request):
    user = user_text(request)
    if request.messages[0].content == CRITIC_SYSTEM:
        if "<CRITIQUE" in user:
            return "REDUCED: show steps; keep the answer line."
        return "CRITIQUE: add steps." if "WRONG" in user else "CRITIQUE: keep the answer line."
    if "Tom" in user:
        return "Answer: 7"
    if "box" in user:
        return "Answer: 12"
    return "Answer: 5"


async def test_loss_and_backward_critique_every_example(task):
    engine = ScriptedEngine(forward_script)
    client = SpyClient(engine)
    prompt = Prompt("Answer the question.")
    loss = await textual_loss(client, task, prompt, task.train)
    assert loss.value == 1 - 2 / 3
    grad = await loss.backward(client)
    assert prompt.grad is grad and grad.text == "REDUCED: show steps; keep the answer line."
    assert grad.critiques == ("CRITIQUE: keep the answer line.",) * 2 + ("CRITIQUE: add steps.",)
    assert grad.batch_score == 2 / 3
    # forward batch of 3, then all critiques in ONE batch of 3, then one reduction
    assert client.batches == [("forward", 3), ("backward", 3), ("backward", 1)]
    critique_wrong = user_text(engine.requests[5])
    for needle in (
        "Sara had 10 pens",
        "Answer: 5",
        "Expected answer: 6",
        "answered 5, expected 6",
        "WRONG",
        "<SYSTEM_PROMPT>\nAnswer the question.\n</SYSTEM_PROMPT>",
        "End with 'Answer: <number>'.",
    ):
        assert needle in critique_wrong
    assert "CORRECT" in user_text(engine.requests[3])
    reduction = user_text(engine.requests[6])
    assert reduction.count("<CRITIQUE example=") == 3 and "(correct)" in reduction
    assert "(wrong: answered 5, expected 6)" in reduction and "1 of 3 answered wrongly" in reduction
    assert task.train[2].input in grad.sources and "Answer: 5" in grad.sources


async def test_all_correct_batch_still_gives_a_gradient(task):
    engine = ScriptedEngine(forward_script)
    client = SpyClient(engine)
    loss = await textual_loss(client, task, Prompt("p"), task.train[:2])
    grad = await loss.backward(client)
    assert loss.value == 0 and grad.text
    assert "all 2 were answered correctly" in user_text(engine.requests[-1])


async def test_batch_of_one_skips_reduction(task):
    client = SpyClient(ScriptedEngine(forward_script))
    loss = await textual_loss(client, task, Prompt("p"), task.train[2:])
    grad = await loss.backward(client)
    assert client.batches == [("forward", 1), ("backward", 1)] and grad.text == "CRITIQUE: add steps."


async def test_backward_uses_prompt_at_forward_time(task):
    engine = ScriptedEngine(forward_script)
    client = SpyClient(engine)
    prompt = Prompt("old prompt")
    loss = await textual_loss(client, task, prompt, task.train[2:])
    prompt.text = "changed later"
    await loss.backward(client)
    assert "old prompt" in user_text(engine.requests[-1])


def test_answer_excerpt_head_and_tail():
    long = " ".join(f"w{i}" for i in range(500))
    ex = answer_excerpt(long)
    assert ex.startswith("w0 w1") and ex.endswith("w499") and "350 words omitted" in ex
    assert answer_excerpt("short answer") == "short answer"
