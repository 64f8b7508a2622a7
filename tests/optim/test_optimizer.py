import json

import pytest
from optim_helpers import FinishEngine, grad, scripted_client, user_text

from dlpo.engines.client import LLMClient
from dlpo.errors import ConfigError
from dlpo.optim.acceptance import Greedy, SimulatedAnnealing
from dlpo.optim.optimizer import TextualGradientDescent
from dlpo.optim.presets import build_optimizer, resolve_recipe
from dlpo.optim.sentences import sentence_diff
from dlpo.optim.techniques import Contrastive, Dropout, LearningRate, Momentum, Regularization
from dlpo.optim.variable import Prompt

START = "Answer the question."
NEW = "Answer the question. Show each step. End with 'Answer: <number>'."
Q = "Question: Tom has 3 apples and buys 4 more. How many apples does he have?"


def tagged(text: str) -> str:
    return f"<IMPROVED_VARIABLE>\n{text}\n</IMPROVED_VARIABLE>"


def optimizer_with(replies, prompt=START, **kw):
    """An optimizer whose update replies come from `replies` (list, consumed in order, or callable)."""
    queue = list(replies) if not callable(replies) else None

    def script(request):
        return replies(request) if queue is None else queue.pop(0)

    engine = FinishEngine(script)
    p = Prompt(prompt)
    p.grad = kw.pop("gradient", grad(sources=[Q, "He has 7.", "7"]))
    return TextualGradientDescent(p, LLMClient(engine), **kw), engine


async def test_step_requires_gradient():
    opt, _ = optimizer_with([])
    opt.zero_grad()
    with pytest.raises(RuntimeError, match="backward"):
        await opt.step()


async def test_plain_step_accepts_and_reports():
    opt, engine = optimizer_with([tagged(NEW)])
    report = await opt.step()
    assert not report.failed and report.accepted and opt.prompt.text == NEW
    assert report.metrics["parse_status"] == "ok" and report.metrics["edits"]["added"] == 2
    assert report.metrics["prompt_words"] == len(NEW.split())
    assert (
        report.request == user_text(engine.requests[0])
        and "<VARIABLE>\nAnswer the question.\n</VARIABLE>" in report.request
    )
    assert opt.client.ledger.roles["optimizer"].calls == 1
    json.dumps(report.to_dict())
    assert opt.step_count == 1 and opt.accepted_count == 1


async def test_missing_tags_reask_then_ok():
    opt, engine = optimizer_with(["Make it show steps.", tagged(NEW)])
    report = await opt.step()
    assert report.accepted and len(report.raw_replies) == 2 and report.metrics["parse_status"] == "reasked"
    assert "IMPORTANT: Your previous reply had no <IMPROVED_VARIABLE> tags" in user_text(engine.requests[1])


async def test_missing_tags_twice_fails_and_keeps_prompt():
    opt, _ = optimizer_with(["No tags here.", "Still no tags."], techniques=[Regularization(warmup_steps=5)])
    report = await opt.step()
    assert report.failed and not report.accepted and report.outcome.candidate is None
    assert opt.prompt.text == START and report.decision is None
    assert report.outcome.reason.startswith("failed: missing tags")
    assert [p["reason"][:7] for p in report.metrics["parse"]] == ["missing", "missing"]
    assert opt.step_count == 1 and opt.accepted_count == 0 and opt.techniques[0].steps == 1
    json.dumps(report.to_dict())


async def test_nested_variable_reply_is_repaired():
    reply = f"<IMPROVED_VARIABLE><VARIABLE>{START}</VARIABLE>\n{NEW}</IMPROVED_VARIABLE>"
    opt, _ = optimizer_with([reply])
    report = await opt.step()
    assert report.accepted and opt.prompt.text == NEW and len(report.raw_replies) == 1


async def test_unchanged_reply_reasks():
    opt, engine = optimizer_with([tagged(START), tagged(NEW)])
    report = await opt.step()
    assert report.metrics["parse"][0]["reason"].startswith("unchanged") and opt.prompt.text == NEW
    assert "unchanged" in user_text(engine.requests[1])


async def test_a_reply_that_only_restates_a_sentence_is_unchanged_and_reasks():
    """A "new" prompt whose only change is a second copy of one of its sentences is the current
    prompt: the copy is dropped (and logged), the reply counts as unchanged and is asked again."""
    start = "Answer the question. Write the final answer as bare digits only."
    restated = "Answer the question. Write the final answer as bare digits only. Write the final answer as bare digits only."
    better = f"{start} Check each step of the working before the answer line."
    opt, engine = optimizer_with([tagged(restated), tagged(better)], prompt=start)
    report = await opt.step()
    first = report.metrics["parse"][0]
    assert first["reason"].startswith("unchanged") and first["repeats_dropped"] == 1
    assert "unchanged" in user_text(engine.requests[1]) and opt.prompt.text == better
    assert report.metrics["edits"]["total"] == 1  # the new sentence; no edit for the copy


async def test_a_feedback_header_copied_with_its_lines_is_dropped_and_the_lines_kept():
    """The optimizer copies a convention line, as asked, and the header above it, which talks about
    the prompt; the candidate keeps the line and loses the header (logged per reply)."""
    header = "The task conventions (true of every training answer; a good prompt states them):"
    reply = tagged(f"{START} {header} Write the answer as bare digits.")
    opt, _ = optimizer_with([reply])
    report = await opt.step()
    assert opt.prompt.text == f"{START} Write the answer as bare digits."
    assert report.metrics["parse"][0]["headers_dropped"] == 1


async def test_reask_samples_while_the_first_ask_is_greedy():
    opt, engine = optimizer_with([tagged(START), tagged(NEW)], reask_temperature=0.6)
    await opt.step()
    first, second = engine.requests
    assert first.temperature == 0.0 and second.temperature == 0.6
    assert first.seed == second.seed == opt.seed  # seeded, so the sampled re-ask is reproducible


@pytest.mark.parametrize("paste", [Q, "He has 7 apples because three plus four makes seven in total."])
async def test_pasted_question_or_answer_reasks(paste):
    g = grad(sources=[Q, "He has 7 apples because three plus four makes seven in total.", "7"])
    opt, engine = optimizer_with([tagged(f"{NEW}\n{paste}"), tagged(NEW)], gradient=g)
    report = await opt.step()
    assert report.metrics["parse"][0]["reason"].startswith("pasted example") and opt.prompt.text == NEW
    assert "copied a training question or answer" in user_text(engine.requests[1])


async def test_pasted_feedback_reasks():
    fb = (
        "The prompt never asks for intermediate steps, so the model skips them and makes arithmetic errors. "
        "It also never fixes the format of the last line, which the scorer needs to find the number."
    )
    opt, _ = optimizer_with([tagged(f"{NEW} {fb}"), tagged(NEW)], gradient=grad(fb))
    report = await opt.step()
    assert report.metrics["parse"][0]["reason"].startswith("pasted feedback") and opt.prompt.text == NEW
    assert "The facts are for you, not prompt text" in user_text(opt.client.engine.requests[1])


async def test_new_prompt_pattern_is_accepted_without_reask():
    opt, _ = optimizer_with([f'I suggest this.\nNew prompt: "{NEW}"'])
    report = await opt.step()
    assert (
        report.accepted and report.metrics["parse"][0]["method"] == "label" and len(report.raw_replies) == 1
    )


async def test_repetition_loop_reasks_then_fails():
    loop = (tagged("Solve.")[:-20] + " Double check the result again. " * 40, "length")
    opt, engine = optimizer_with([loop, loop])
    report = await opt.step()
    assert report.failed and opt.prompt.text == START
    assert all(p["reason"].startswith("repetition loop") for p in report.metrics["parse"])
    assert "repeated itself" in user_text(engine.requests[1])


async def test_tlr_over_budget_reask_states_count_then_ok():
    over = "Solve it. Show each step. Check units. Be brief. End with 'Answer: <number>'."
    ok = "Answer the question. End with 'Answer: <number>'."
    opt, engine = optimizer_with([tagged(over), tagged(ok)], techniques=[LearningRate()], lr=1)
    report = await opt.step()
    assert "made 6 sentence edits" in user_text(engine.requests[1])
    assert report.metrics["reasked"] and not report.metrics["trimmed"] and report.metrics["edits_final"] == 1
    assert report.metrics["edits_attempts"] == [6, 1] and opt.prompt.text == ok


async def test_tlr_still_over_budget_is_trimmed():
    over = "Answer the question carefully. Show each step. Check units. End with 'Answer: <number>'."
    opt, _ = optimizer_with([tagged(over), tagged(over)], techniques=[LearningRate()], lr=2)
    report = await opt.step()
    assert report.metrics["trimmed"] and report.metrics["edits_budget"] == 2
    assert sentence_diff(START, opt.prompt.text).total == 2 == report.metrics["edits_final"]


async def test_tlr_trimming_a_whole_sentence_deletion_leaves_no_fragment():
    """Deleting a two-clause sentence under a budget of 1, twice: the deletion does not fit, so it
    is reverted whole (not cut to the sentence's second clause) and the step counts as unchanged."""
    start = "Answer the question. The answer is a whole number: write bare digits with no units. Be brief."
    deleted = "Answer the question. Be brief."
    opt, _ = optimizer_with(
        [tagged(deleted), tagged(deleted)],
        prompt=start,
        techniques=[LearningRate()],
        lr=1,
        unchanged_fallback=False,
    )
    report = await opt.step()
    assert report.metrics["trimmed"] and report.metrics["edits_attempts"] == [2, 2]
    assert report.failed and opt.prompt.text == start
    assert report.metrics["parse"][-1]["reason"].startswith("unchanged")


async def test_tlr_reask_unparseable_falls_back_to_trimming_first():
    over = "Answer the question carefully. Show each step. Check units."
    opt, _ = optimizer_with([tagged(over), "no tags"], techniques=[LearningRate()], lr=1)
    report = await opt.step()
    assert (
        not report.failed and report.metrics["trimmed"] and sentence_diff(START, opt.prompt.text).total == 1
    )


async def test_tdo_restores_frozen_sentence():
    prompt = "You are a tutor. Read twice. Think step by step. Check arithmetic."
    # p=1 freezes everything; the model changes one frozen sentence and adds one.
    reply = tagged("You are a tutor. Read once. Think step by step. Check arithmetic. Be kind.")
    opt, _ = optimizer_with([reply], prompt=prompt, techniques=[Dropout(p=1.0)])
    report = await opt.step()
    assert "<DROPOUT>" in report.request
    assert opt.prompt.text == prompt + " Be kind."
    assert report.metrics["dropout_violations"] == 1 and report.metrics["violations"]["tdo"] == 1


async def test_tdo_restore_that_leaves_prompt_unchanged_fails_step():
    prompt = "You are a tutor. Read twice."
    opt, _ = optimizer_with(
        [tagged("You are a tutor. Read once."), tagged("You are a coach. Read twice.")],
        prompt=prompt,
        techniques=[Dropout(p=1.0)],
        unchanged_fallback=False,  # with the fallback (the default) a new sentence is appended instead
    )
    report = await opt.step()
    assert report.failed and report.metrics["parse"][-1]["method"] == "after_checks"
    assert opt.prompt.text == prompt


async def test_tsa_baseline_is_current_prompt_score_and_reject_keeps_prompt():
    scores = {START: 0.6, NEW: 0.2}
    calls = []

    async def score_fn(p):
        calls.append(p)
        return scores[p]

    opt, _ = optimizer_with(
        [tagged(NEW)], techniques=[Contrastive()], acceptance=SimulatedAnnealing(), score_fn=score_fn
    )
    report = await opt.step()
    d = report.decision
    assert not report.accepted and d.delta == pytest.approx(-0.4) and "hard margin" in d.reason
    assert opt.prompt.text == START and calls == [START, NEW]
    assert {e["prompt"]: e["score"] for e in opt.techniques[0].memory} == scores
    assert report.metrics["temperature"] == 64


async def test_contrastive_needs_scores_even_under_always_accept():
    async def score_fn(p):
        return 0.5

    opt, _ = optimizer_with([tagged(NEW)], techniques=[Contrastive()], score_fn=score_fn)
    report = await opt.step()
    assert report.accepted and report.outcome.score_candidate == 0.5 and len(opt.techniques[0].memory) == 2
    with pytest.raises(ConfigError, match="score_fn"):
        TextualGradientDescent(Prompt("x"), scripted_client(lambda r: "")[0], techniques=[Contrastive()])
    with pytest.raises(ConfigError, match="greedy"):
        TextualGradientDescent(Prompt("x"), scripted_client(lambda r: "")[0], acceptance=Greedy())


async def test_momentum_off_means_off():
    replies = [tagged(f"{START} Rule {i}.") for i in range(3)]
    opt, engine = optimizer_with(replies)
    for _ in range(3):
        await opt.step()
    assert all("PAST_FEEDBACK" not in user_text(r) for r in engine.requests)
    opt2, engine2 = optimizer_with(list(replies), techniques=[Momentum()])
    for _ in range(3):
        await opt2.step()
    assert "PAST_FEEDBACK" not in user_text(engine2.requests[0]) and "<PAST_FEEDBACK>" in user_text(
        engine2.requests[2]
    )


def _script(request):
    """Deterministic replies that depend on the request, with occasional failures."""
    text = user_text(request)
    n = sum(map(ord, text))
    if n % 4 == 0:
        return "no tags at all"
    current = text.split("<VARIABLE>\n")[1].split("\n</VARIABLE>")[0]
    extra = " ".join(f"Rule {n % 97 + i}." for i in range(1 + n % 3))
    return tagged(f"{current} {extra}")


async def _run(steps, stop_after=None, state=None):
    prompt = Prompt(START)

    async def score_fn(p):
        return (sum(map(ord, p)) % 7) / 20

    client = LLMClient(FinishEngine(_script))
    recipe = resolve_recipe(techniques="tlrd,tsa,tcl,tdo,tmnt,tregu", regularization_warmup=3, t0=0.5)
    opt, scheds = build_optimizer(recipe, prompt, client, score_fn=score_fn, seed=7)
    if state is not None:
        opt.load_state_dict(state["opt"])
        for s, st in zip(scheds, state["scheds"]):
            s.load_state_dict(st)
    reports = []
    start = opt.step_count
    for k in range(start, steps):
        prompt.grad = grad(f"feedback for step {k}: be more specific")
        report = await opt.step()
        for s in scheds:
            s.step(report)
        reports.append(report.to_dict())
        if stop_after is not None and k + 1 == stop_after:
            return reports, json.loads(
                json.dumps({"opt": opt.state_dict(), "scheds": [s.state_dict() for s in scheds]})
            )
    return reports, {"opt": opt.state_dict(), "scheds": [s.state_dict() for s in scheds]}


async def test_state_dict_resume_reproduces_uninterrupted_run():
    full, final = await _run(6)
    first, saved = await _run(6, stop_after=2)
    rest, resumed_final = await _run(6, state=saved)
    assert first + rest == full
    assert resumed_final == json.loads(json.dumps(final))
    # the scenario exercises the seeded parts: annealing draws, re-asks, accepts and rejects, lr decay
    assert sum(r["decision"]["draw"] is not None for r in full) >= 3
    assert {r["accepted"] for r in full} == {True, False}
    assert any(r["metrics"]["parse_status"] == "reasked" for r in full)
    # TLRD: the budget starts at 4 and drops by 1 per accepted step, floor 1 (the scenario's
    # accept/reject pattern depends on the request wording, so the expected list is derived from it)
    budgets = [r["metrics"]["edits_budget"] for r in full]
    expected = [4]
    for r in full[:-1]:
        expected.append(max(1, expected[-1] - int(r["accepted"])))
    assert budgets == expected and budgets[-1] < budgets[0]


async def test_engine_errors_propagate():
    from dlpo.errors import EngineError

    def boom(request):
        raise EngineError("server down")

    opt, _ = optimizer_with(boom)
    with pytest.raises(EngineError, match="server down"):
        await opt.step()
    assert opt.step_count == 0 and opt.prompt.text == START


async def test_a_candidate_turned_down_before_is_reasked_not_rescored():
    other = "Answer the question. Check the arithmetic twice."
    scored: list[str] = []

    async def score_fn(p):
        scored.append(p)
        return 1.0 if p == START else 0.0  # every candidate is worse: Greedy turns it down

    opt, engine = optimizer_with(
        [tagged(NEW), tagged(NEW), tagged(other)], acceptance=Greedy(), score_fn=score_fn
    )
    first = await opt.step()
    assert not first.accepted and not first.failed and opt.rejected == [NEW]
    opt.prompt.grad = grad(sources=[Q, "He has 7.", "7"])
    second = await opt.step()
    assert second.outcome.candidate == other and len(second.raw_replies) == 2
    assert "already tried and scored worse" in user_text(engine.requests[2])
    assert scored.count(NEW) == 1 and opt.rejected == [NEW, other]
    restored, _ = optimizer_with([], acceptance=Greedy(), score_fn=score_fn)
    restored.load_state_dict(json.loads(json.dumps(opt.state_dict())))
    assert restored.rejected == [NEW, other]
