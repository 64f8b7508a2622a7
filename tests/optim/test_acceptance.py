import math
import random

import pytest

from dlpo.optim.acceptance import AlwaysAccept, Greedy, SimulatedAnnealing


def test_always_accept_needs_no_scores():
    a = AlwaysAccept()
    assert not a.needs_scores
    assert a.decide(None, None, random.Random(0)).accept
    assert a.decide(0.5, 0.2, random.Random(0)).delta == pytest.approx(-0.3)


def test_greedy():
    g = Greedy()
    assert g.decide(0.5, 0.5, random.Random(0)).accept
    assert g.decide(0.5, 0.6, random.Random(0)).accept
    d = g.decide(0.5, 0.4, random.Random(0))
    assert not d.accept and d.delta == pytest.approx(-0.1)
    with pytest.raises(ValueError):
        g.decide(None, 0.4, random.Random(0))


def test_tsa_accepts_not_worse_without_drawing():
    rng = random.Random(1)
    before = rng.getstate()
    d = SimulatedAnnealing().decide(0.4, 0.4, rng)
    assert d.accept and d.draw is None and d.temperature == 64 and rng.getstate() == before


def test_tsa_hard_margin_rejects():
    d = SimulatedAnnealing(hard_margin=0.3).decide(0.8, 0.4, random.Random(0))
    assert not d.accept and "hard margin" in d.reason and d.probability == 0.0


def test_tsa_probabilistic_decision_uses_seeded_draw():
    rule = SimulatedAnnealing(t0=64, decay=2, accepted=10)  # T = 0.0625
    expected_u = random.Random(5).random()
    d = rule.decide(0.5, 0.4, random.Random(5))
    p = math.exp(-0.1 / 0.0625)
    assert d.temperature == pytest.approx(0.0625) and d.probability == pytest.approx(p)
    assert d.draw == pytest.approx(expected_u) and d.accept == (expected_u <= p)


@pytest.mark.parametrize("seed", range(6))
def test_tsa_accept_iff_draw_below_p(seed):
    rule = SimulatedAnnealing(t0=0.1, decay=2)
    d = rule.decide(0.6, 0.5, random.Random(seed))
    assert d.accept == (d.draw <= d.probability)


def test_tsa_temperature_follows_accepted_steps():
    rule = SimulatedAnnealing(t0=64, decay=2)
    rng = random.Random(0)
    temps = []
    for cand in (0.5, 0.6, 0.0, 0.7):  # accept, accept, hard-reject, accept
        temps.append(rule.decide(0.5, cand, rng).temperature)
    assert temps == [64, 32, 16, 16]
    assert rule.accepted == 3
    fresh = SimulatedAnnealing()
    fresh.load_state_dict(rule.state_dict())
    assert fresh.temperature == 8
