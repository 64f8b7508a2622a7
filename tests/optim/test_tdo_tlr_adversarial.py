"""Adversarial tests for the techniques of issue 12: TDO repair and freeze cap, TLR wording and
check, TRegu warm-up for short runs, TMnt labels, and the techniques' activity counters."""

import json
import random

import pytest
from optim_helpers import grad

from dlpo.optim.base import StepOutcome, UpdateContext
from dlpo.optim.sentences import sentence_diff
from dlpo.optim.techniques import Dropout, LearningRate, Momentum, Regularization

PROMPT = "You are a math tutor. Read the question twice. Think step by step. Check your arithmetic. End with the answer."


def ctx(prompt: str = PROMPT, lr=None, seed: int = 0, step: int = 0, **notes) -> UpdateContext:
    return UpdateContext(
        step=step, prompt=prompt, gradient=grad(), rng=random.Random(seed), lr=lr, notes=dict(notes)
    )


def outcome(before, cand, accepted, step: int = 0, g: str = "feedback") -> StepOutcome:
    return StepOutcome(step, before, cand, accepted, grad(g))


def roundtrip(tech, fresh):
    fresh.load_state_dict(json.loads(json.dumps(tech.state_dict())))
    assert fresh.state_dict() == tech.state_dict()
    return fresh


# --- TDO repair -----------------------------------------------------------------------------------------


def test_tdo_repair_keeps_the_unrelated_new_sentence():
    c = ctx(prompt="Alpha. Beta rule. Gamma.", tdo_frozen=[1])
    r = Dropout().check(c, "Alpha. New X rule. Beta rule changed. Gamma.")
    assert r.candidate == "Alpha. New X rule. Beta rule. Gamma."
    assert r.violations == 1 and r.metrics["dropout_restored"] == 1


@pytest.mark.parametrize(
    "candidate,repaired",
    [
        # the frozen sentence is dropped and an unrelated one written in its place
        ("Alpha one. Delta is new. Gamma three.", "Alpha one. Beta rule. Delta is new. Gamma three."),
        # the frozen sentence is dropped, its neighbour modified, and a new one added at the end
        ("Alpha one. Gamma three now. Delta new.", "Alpha one. Beta rule. Gamma three now. Delta new."),
    ],
)
def test_tdo_restores_a_deleted_frozen_sentence_and_keeps_the_other_edits(candidate, repaired):
    c = ctx(prompt="Alpha one. Beta rule. Gamma three.", tdo_frozen=[1])
    r = Dropout().check(c, candidate)
    assert r.candidate == repaired and r.candidate.count("Beta rule.") == 1


# --- TDO freeze cap -------------------------------------------------------------------------------------


def test_tdo_one_sentence_prompt_freezes_nothing():
    c = ctx(prompt="Answer the question.")
    assert Dropout(p=0.3).sections(c) == [] and c.notes["tdo_frozen"] == []


@pytest.mark.parametrize("p", [0.3, 0.5, 0.9, 1.0])
def test_tdo_never_freezes_every_sentence(p):
    for n in range(1, 9):
        prompt = " ".join(f"Rule number {i} applies." for i in range(n))
        c = ctx(prompt=prompt, seed=n)
        Dropout(p=p).sections(c)
        assert len(c.notes["tdo_frozen"]) <= n - 1


def test_tdo_freezes_ceil_pn_without_float_noise():
    prompt = " ".join(f"Rule number {i} applies." for i in range(25))
    c = ctx(prompt=prompt)
    Dropout(p=0.28).sections(c)  # 0.28 * 25 == 7.000000000000001 in floats
    assert len(c.notes["tdo_frozen"]) == 7


# --- TLR wording and check ------------------------------------------------------------------------------


def test_tlr_request_says_at_most_and_names_the_unit_rules():
    for tlr in (LearningRate(), LearningRate(exact=True)):  # `exact` is still accepted (old recipes)
        [s] = tlr.sections(ctx(lr=2))
        assert "at most 2 sentences" in s.instruction and "exactly" not in s.instruction
        assert "';'" in s.instruction and "':'" in s.instruction and "list item" in s.instruction


def test_tlr_check_allows_up_to_the_budget_and_reasks_above():
    two = PROMPT.replace("Read the question twice.", "Read the question twice slowly.") + " Be kind."
    three = two + " Stay calm."
    assert sentence_diff(PROMPT, two).total == 2 and sentence_diff(PROMPT, three).total == 3
    [s] = LearningRate().sections(ctx(lr=2))
    assert "at most 2 sentences" in s.instruction  # what is asked is what is checked
    r = LearningRate().check(ctx(lr=2, reask_allowed=True), two)
    assert r.reask is None and r.candidate == two
    r = LearningRate().check(ctx(lr=2, reask_allowed=True), three)
    assert r.reask is not None and "at most 2" in r.reask


def test_tlr_run_on_clauses_are_over_budget():
    runon = "Always show every step; check each number; write the units; keep it short; never guess."
    r = LearningRate().check(ctx(lr=2, reask_allowed=True), PROMPT + " " + runon)
    assert r.metrics["edits_measured"] == 5 and r.reask is not None


# --- TRegu warm-up --------------------------------------------------------------------------------------


def test_tregu_acts_within_a_four_step_planned_run():
    r = Regularization(planned_steps=4)
    acted = []
    for k in range(4):
        acted.append(bool(r.sections(ctx(step=k))))
        r.observe(outcome(f"P{k}.", f"P{k + 1}.", True, step=k))
    assert any(acted) and not acted[0]


@pytest.mark.parametrize("planned,warmup", [(None, 16), (1, 1), (4, 1), (8, 2), (30, 8), (80, 16), (400, 16)])
def test_tregu_warmup_scales_with_the_planned_run(planned, warmup):
    assert Regularization(planned_steps=planned).warmup == warmup


def test_tregu_explicit_smaller_warmup_and_state():
    r = Regularization(warmup_prompts=3, planned_steps=80)
    assert r.warmup == 3
    fresh = roundtrip(r, Regularization())
    assert fresh.planned_steps == 80 and fresh.warmup == 3


# --- TMnt labels ----------------------------------------------------------------------------------------


def test_momentum_labels_by_real_step_distance():
    m = Momentum(k=3)
    m.observe(outcome("a", "b", True, step=0, g="feedback zero"))
    m.observe(outcome("b", "c", False, step=1, g="feedback rejected"))
    m.observe(outcome("b", "c", True, step=2, g="feedback two"))
    [s] = m.sections(ctx(step=3))
    assert s.body.splitlines() == ["[3 steps ago] feedback zero", "[1 step ago] feedback two"]
    fresh = roundtrip(m, Momentum())
    assert fresh.sections(ctx(step=3)) == [s]


def test_momentum_old_checkpoint_without_steps_is_labelled_by_rank():
    m = Momentum()
    m.load_state_dict({"k": 3, "history": ["fb one", "fb two"]})
    [s] = m.sections(ctx(step=9))
    assert s.body.splitlines() == ["[2nd most recent] fb one", "[most recent] fb two"]


# --- activity counters ----------------------------------------------------------------------------------


def test_tdo_activity_counts_frozen_and_restored_once_per_step():
    d = Dropout(p=0.5)
    c = ctx()
    d.sections(c)  # 3 of 5 frozen
    frozen = c.notes["tdo_frozen"]
    cand = "Nothing left of it."
    d.check(c, cand)
    d.check(c, cand)  # the same step checked again after a re-ask: counted once
    a = d.activity()
    assert a["steps"] == 1 and a["frozen"] == len(frozen) == 3
    assert a["violated"] == 3 and a["restored"] == 3
    fresh = roundtrip(d, Dropout())
    assert fresh.activity() == a


def test_tlr_activity_counts_reasks_trims_and_edits():
    tlr = LearningRate()
    over = "You are a careful math tutor. Read the question twice. Think step by step. End with the answer. Be kind."
    c = ctx(lr=1, reask_allowed=True)
    tlr.check(c, over)
    c.notes.update(reask_allowed=False, reask_by="tlr")
    tlr.check(c, over)
    a = tlr.activity()
    assert a["measured"] == 2 and a["edits_measured"] == 6 and a["over_budget"] == 2
    assert a["reasks"] == 1 and a["trims"] == 1
    assert roundtrip(tlr, LearningRate()).activity() == a


def test_momentum_and_regularization_activity():
    m = Momentum(k=2)
    m.sections(ctx())
    m.observe(outcome("a", "b", True, step=0))
    m.observe(outcome("b", "c", True, step=1))
    m.sections(ctx(step=2))
    m.sections(ctx(step=3))
    assert m.activity()["gradients_shown"] == 4 and m.activity()["steps_shown"] == 2
    assert roundtrip(m, Momentum()).activity() == m.activity()
    r = Regularization(warmup_prompts=0)
    r.sections(ctx())
    r.sections(ctx(step=1))
    assert r.activity()["requests"] == 2
    assert roundtrip(r, Regularization()).activity() == r.activity()


def test_old_checkpoints_without_activity_load_as_zero():
    for tech, state in [
        (Dropout(), {"p": 0.3}),
        (LearningRate(), {"lr": 4}),
        (Momentum(), {"k": 3, "history": []}),
        (Regularization(), {"warmup_prompts": 16, "warmup_steps": None, "seen": [], "steps": 0}),
    ]:
        tech.load_state_dict(state)
        assert tech.activity() and set(tech.activity().values()) == {0}
