"""APO's expansion as in ProTeGi, with scripted engines: one minibatch per round shared by the parents,
successors from an all-correct minibatch, and Monte-Carlo paraphrases of each parent."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from dlpo.baselines.apo import APO, ApoOptions, estimate_calls
from dlpo.engines.base import ChatRequest
from dlpo.engines.client import LLMClient
from dlpo.engines.scripted import ScriptedEngine
from dlpo.experiments import toy
from dlpo.tasks.base import Task
from dlpo.tasks.registry import load_task

_SUM = re.compile(r"What is (\d+) \+ (\d+)\?")
_PROMPT = re.compile(r'My current prompt is:\n"(.*?)"\n', re.DOTALL)
_QUESTION = re.compile(r"^Text: (.*)$", re.MULTILINE)


@pytest.fixture
def sums(tmp_path) -> Task:
    return load_task(f"file:{toy.write_task(tmp_path / 'sums.jsonl', n=30)}", scorer="numeric")


def always_wrong(request: ChatRequest) -> str:
    return "Answer: 0"  # every sum of the toy task is at least 2


def always_right(request: ChatRequest) -> str:
    m = _SUM.search(request.messages[-1].content)
    return f"Answer: {int(m.group(1)) + int(m.group(2))}" if m else "Answer: 0"


def backward_reply(request: ChatRequest) -> str:
    """A reason for a gradient request, one edited prompt for an edit request (the parent plus a
    sentence), and a reworded prompt for a paraphrase request."""
    user = request.messages[-1].content
    if "reasons why the prompt" in user:
        return "<START>The prompt does not say how to add two numbers.<END>"
    if "improved prompts" in user:
        parent = _PROMPT.search(user).group(1)
        return f"<START>{parent} Add the two numbers with care.<END>"
    if user.startswith("Generate a variation"):
        source = user.split("Input: ", 1)[1].rsplit("\n\nOutput:", 1)[0]
        return f"<START>In other words: {source}<END>"
    raise AssertionError(f"unexpected backward request: {user[:80]}")


def _apo(
    task: Task,
    forward: Callable[[ChatRequest], str],
    options: ApoOptions,
    beam: list[str],
    backward: Callable[[ChatRequest], str] = backward_reply,
    **kw,
) -> tuple[APO, ScriptedEngine, LLMClient]:
    bwd_engine = ScriptedEngine(backward, name="bwd")
    bwd = LLMClient(bwd_engine)
    fwd = LLMClient(ScriptedEngine(forward, name="fwd"))
    apo = APO(task, task.train, fwd, bwd, options, seed=3, start=beam[0], forward_max_tokens=32, **kw)
    apo.beam = list(beam)
    return apo, bwd_engine, bwd


def _requests(engine: ScriptedEngine, marker: str) -> list[str]:
    return [r.messages[-1].content for r in engine.requests if marker in r.messages[-1].content]


SMALL = {"eval_rounds": 1, "arms_per_round": 2, "samples_per_eval": 2, "max_expansion": 8}


async def test_one_minibatch_per_round_is_shared_by_every_parent(sums):
    o = ApoOptions(beam_width=2, minibatch=4, n_gradients=1, errors_per_gradient=4, mc_samples=0, **SMALL)
    apo, engine, _ = _apo(sums, always_wrong, o, ["Prompt A.", "Prompt B."])
    for _ in range(2):
        engine.requests.clear()
        exps, _, _ = await apo.round()
        shown: dict[str, set[str]] = {}
        for user in _requests(engine, "reasons why the prompt"):
            shown.setdefault(_PROMPT.search(user).group(1), set()).update(_QUESTION.findall(user))
        assert len(shown) == 2  # both parents asked for gradients ...
        first, second = shown.values()
        assert len(first) == 4 and first == second  # ... on the same four examples
        assert exps[0].examples == exps[1].examples and len(exps[0].examples) == 4


async def test_all_correct_minibatch_still_yields_successors(sums):
    """With the run option `skip_correct_batches` off (it is on by default, for every method)."""
    o = ApoOptions(beam_width=1, minibatch=4, n_gradients=1, mc_samples=1, **SMALL)
    apo, engine, _ = _apo(sums, always_right, o, ["Prompt A."], skip_correct_batches=False)
    exps, candidates, _ = await apo.round()
    assert exps[0].batch_score == 1.0 and not exps[0].gradients  # no error: nothing to ask reasons for
    assert exps[0].successors == ["In other words: Prompt A."]
    assert candidates == ["Prompt A.", "In other words: Prompt A."]
    assert not _requests(engine, "reasons why the prompt")


async def test_an_all_correct_minibatch_is_skipped_by_default(sums):
    o = ApoOptions(beam_width=1, minibatch=4, n_gradients=1, mc_samples=1, **SMALL)
    apo, engine, bwd = _apo(sums, always_right, o, ["Prompt A."])
    exps, candidates, _ = await apo.round()
    assert exps[0].batch_score == 1.0 and exps[0].successors == [] and candidates == ["Prompt A."]
    assert engine.requests == [] and "optimizer" not in bwd.ledger.roles  # no backward, no optimizer call


async def test_parents_are_paraphrased_and_enter_the_bandit(sums):
    o = ApoOptions(beam_width=2, minibatch=4, n_gradients=1, mc_samples=1, parent_mc_samples=1, **SMALL)
    apo, engine, bwd = _apo(sums, always_wrong, o, ["Prompt A.", "Prompt B."])
    exps, candidates, selection = await apo.round()
    asked = [u.split("Input: ", 1)[1].rsplit("\n\nOutput:", 1)[0] for u in _requests(engine, "Input: ")]
    assert "Prompt A." in asked and "Prompt B." in asked  # the parents themselves, not only their edits
    for exp in exps:
        assert exp.parent_paraphrases == [f"In other words: {exp.parent}"]
        assert exp.parent_paraphrases[0] in exp.successors and exp.parent_paraphrases[0] in candidates
    assert len(selection.stats) == len(candidates)  # every candidate is an arm of the bandit
    edits = sum(len(e.edits) for e in exps)
    # counted like every call: edits, one paraphrase per edit and one per parent, all "optimizer"
    assert bwd.ledger.roles["optimizer"].calls == edits + edits + 2


async def test_parent_paraphrase_count_is_configurable_and_counted(sums):
    o = ApoOptions(beam_width=1, minibatch=4, n_gradients=1, mc_samples=0, parent_mc_samples=3, **SMALL)
    apo, engine, bwd = _apo(sums, always_wrong, o, ["Prompt A."])
    await apo.round()
    paraphrases = [r for r in engine.requests if r.messages[-1].content.startswith("Generate a variation")]
    assert len(paraphrases) == 3 and len({r.sample_index for r in paraphrases}) == 3
    assert bwd.ledger.roles["optimizer"].calls == 1 + 3  # one edit, three parent paraphrases


async def test_estimate_calls_bounds_a_round_with_paraphrases_and_a_full_sweep(sums):
    o = ApoOptions(
        beam_width=2,
        minibatch=4,
        n_gradients=2,
        mc_samples=1,
        parent_mc_samples=2,
        max_expansion=8,
        eval_rounds=1,
        arms_per_round=2,
        samples_per_eval=2,
    )
    apo, _, bwd = _apo(sums, always_wrong, o, ["Prompt A.", "Prompt B."])
    _, _, selection = await apo.round()
    assert all(st.n > 0 for st in selection.stats)  # the bandit pulled every candidate
    calls = apo.forward.ledger.total().calls + bwd.ledger.total().calls
    assert calls <= estimate_calls(o, rounds=1, val=0, test=0)


async def test_a_parent_kept_in_the_beam_gets_fresh_paraphrase_samples(sums):
    o = ApoOptions(beam_width=1, minibatch=4, n_gradients=1, mc_samples=0, parent_mc_samples=1, **SMALL)
    apo, engine, _ = _apo(sums, always_wrong, o, ["Prompt A."])
    apo.beam = ["Prompt A."]
    indices = []
    for _ in range(2):
        engine.requests.clear()
        await apo.round()
        apo.beam = ["Prompt A."]  # as if the bandit kept the parent
        indices += [r.sample_index for r in engine.requests if "Input: Prompt A." in r.messages[-1].content]
    assert len(indices) == 2 and indices[0] != indices[1]  # not the cached sample of the last round


def test_the_run_folder_records_the_shared_minibatch_and_parent_paraphrases(tmp_path):
    from dlpo.baselines.apo_run import apo_recipe
    from dlpo.runs.events import read_events
    from dlpo.train import fit
    from dlpo.training.config import TrainConfig

    path = toy.write_task(tmp_path / "sums.jsonl", n=30)
    config = TrainConfig.build(
        task=f"file:{path}",
        task_options={"scorer": "numeric"},
        recipe=apo_recipe(),
        steps=1,
        val_limit=3,
        test_limit=3,
        seed=1,
        forward="py:x:y",
        backward="py:x:y",
        method_options={"beam_width": 2, "minibatch": 4, "n_gradients": 1, "parent_mc_samples": 1, **SMALL},
    )
    e = toy.ToyEngine()
    fit(config, run_dir=tmp_path / "run", forward_engine=e, backward_engine=e)
    [expansion] = [
        ev for ev in read_events(tmp_path / "run" / "events.jsonl") if ev["type"] == "apo_expansion"
    ]
    assert len(expansion["examples"]) == 4 and len(expansion["parent_paraphrases"]) == 1


async def test_apo_successors_get_the_task_conventions_under_facts(sums):
    """Every method's candidates get the task conventions under `feedback: facts` (APO's too)."""
    from dlpo.optim.feedback import FeedbackPolicy
    from dlpo.tasks.conventions import task_facts

    facts = task_facts(sums)
    assert facts.lines  # the toy task's bare-number targets have a format to state
    o = ApoOptions(beam_width=1, minibatch=4, n_gradients=1, errors_per_gradient=4, mc_samples=1, **SMALL)
    apo, _, _ = _apo(sums, always_wrong, o, ["Prompt A."], feedback=FeedbackPolicy("facts", facts))
    exp = await apo.expand("Prompt A.", sums.train[:4])
    assert exp.successors and all(not facts.unstated(p) for p in exp.successors)
    plain, _, _ = _apo(sums, always_wrong, o, ["Prompt A."], feedback=FeedbackPolicy("plain", facts))
    exp = await plain.expand("Prompt A.", sums.train[:4])
    assert exp.successors and all(facts.unstated(p) for p in exp.successors)


async def test_apo_edits_lose_a_copied_feedback_header_and_keep_its_lines(sums):
    """APO's successors are repaired like every method's candidates (`repair_candidate`): the
    feedback header a small optimizer pastes above a line it copies is dropped, the line is kept."""
    header = "Task conventions (true of every training answer; a good prompt states them):"

    def pastes_header(request: ChatRequest) -> str:
        user = request.messages[-1].content
        if "improved prompts" in user:
            parent = _PROMPT.search(user).group(1)
            return f"<START>{parent}\n{header}\n- Add the two numbers with care.<END>"
        return backward_reply(request)

    o = ApoOptions(beam_width=1, minibatch=4, n_gradients=1, errors_per_gradient=4, mc_samples=0, **SMALL)
    apo, _, _ = _apo(sums, always_wrong, o, ["Prompt A."], backward=pastes_header)
    exp = await apo.expand("Prompt A.", sums.train[:4])
    assert exp.edits == ["Prompt A.\n- Add the two numbers with care."]
