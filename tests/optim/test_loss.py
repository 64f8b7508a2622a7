from optim_helpers import SpyClient, user_text

from dlpo.engines.scripted import ScriptedEngine
from dlpo.optim.facts import HINTS
from dlpo.optim.gradient import ALL_CORRECT, CORRECT_NOTE, CRITIC_SYSTEM, answer_excerpt
from dlpo.optim.loss import textual_loss
from dlpo.optim.parsing import SUGGESTIONS_HEADER
from dlpo.optim.variable import Prompt

CRITIQUE = "- Show each step before the answer line."
REDUCED = "- Show each step.\n- The prompt should say more.\n- End with the answer line."


def make_script(wrong_on=("Sara",)):
    def script(request):
        user = user_text(request)
        if request.messages[0].content == CRITIC_SYSTEM:
            if "<SUGGESTIONS>" in user:
                return REDUCED
            return CRITIQUE if "WRONG" in user else "- Keep: answer briefly."
        if any(name in user for name in wrong_on):
            return "Answer: 5"
        return "Answer: 7" if "Tom" in user else "Answer: 12" if "box" in user else "Answer: 6"

    return script


async def test_only_wrong_examples_are_critiqued_and_one_critique_needs_no_reduction(task):
    engine = ScriptedEngine(make_script())
    client = SpyClient(engine)
    prompt = Prompt("Answer the question.")
    loss = await textual_loss(client, task, prompt, task.train)
    assert loss.value == 1 - 2 / 3
    grad = await loss.backward(client)
    assert prompt.grad is grad and grad.batch_score == 2 / 3
    # forward batch of 3, then one critique (the wrong example), no reduction
    assert client.batches == [("forward", 3), ("backward", 1)]
    assert grad.critiques == (CORRECT_NOTE, CORRECT_NOTE, CRITIQUE)
    critique = user_text(engine.requests[3])
    for needle in (
        "Sara had 10 pens",
        "Answer: 5",
        "Expected answer (given and correct): 6",
        "The reply is WRONG. What went wrong: answered 5, expected 6; the reply gave only the answer, with no working.",
        "<SYSTEM_PROMPT>\nAnswer the question.\n</SYSTEM_PROMPT>",
        "End with 'Answer: <number>'.",
    ):
        assert needle in critique
    # facts (numbers masked), then the cleaned suggestion under the header
    assert grad.text.startswith("1 of 3 answers were wrong.")
    assert "- 1 wrong: answered N, expected N" in grad.text and "2 correct" in grad.text
    # the fix hint for the observed bare answer comes first, then the critic's instruction
    assert grad.text.endswith(f"{SUGGESTIONS_HEADER}\n- {HINTS['bare_answer']}\n{CRITIQUE}")
    assert "6" not in grad.text.split(SUGGESTIONS_HEADER)[0]
    assert task.train[2].input in grad.sources and "Answer: 5" in grad.sources


async def test_two_critiques_are_reduced_and_meta_lines_dropped(task):
    engine = ScriptedEngine(make_script(wrong_on=("Sara", "box")))
    client = SpyClient(engine)
    loss = await textual_loss(client, task, Prompt("p"), task.train)
    grad = await loss.backward(client)
    assert client.batches == [("forward", 3), ("backward", 2), ("backward", 1)]
    reduction = user_text(engine.requests[-1])
    assert "2 of 3 answers were wrong" in reduction and reduction.count(CRITIQUE) == 2
    suggestions = grad.text.split(SUGGESTIONS_HEADER + "\n")[1].splitlines()
    # fix hint first, then the reduction's lines ("The prompt should ..." dropped)
    assert suggestions == [f"- {HINTS['bare_answer']}", "- Show each step.", "- End with the answer line."]


async def test_all_correct_batch_gives_the_facts_without_calls(task):
    client = SpyClient(ScriptedEngine(make_script()))
    loss = await textual_loss(client, task, Prompt("p"), task.train[:2])
    grad = await loss.backward(client)
    assert loss.value == 0 and grad.text == ALL_CORRECT.format(n=2)
    assert client.batches == [("forward", 2)]


async def test_critique_correct_asks_for_every_example(task):
    engine = ScriptedEngine(make_script())
    client = SpyClient(engine)
    loss = await textual_loss(client, task, Prompt("p"), task.train)
    grad = await loss.backward(client, critique_correct=True)
    assert client.batches == [("forward", 3), ("backward", 3)]
    assert "CORRECT" in user_text(engine.requests[3]) and grad.critiques[0] == "- Keep: answer briefly."
    assert "- Keep: answer briefly." in grad.text


async def test_backward_uses_prompt_at_forward_time(task):
    engine = ScriptedEngine(make_script())
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


async def test_a_fix_hint_the_prompt_already_has_asks_for_more_emphasis(task):
    from dlpo.optim.gradient import ECHO_NOTE

    client = SpyClient(ScriptedEngine(make_script()))
    loss = await textual_loss(client, task, Prompt(f"Answer. {HINTS['bare_answer']}"), task.train)
    grad = await loss.backward(client)
    assert grad.text.endswith(f"- {HINTS['bare_answer']}\n{CRITIQUE}{ECHO_NOTE}")
    plain = await textual_loss(client, task, Prompt("Answer."), task.train)
    assert ECHO_NOTE not in (await plain.backward(client)).text
