"""Statistics against hand-computed cases."""

import math

import pytest

from dlpo.experiments.stats import mean_std, paired_bootstrap, sign_test


def test_mean_std_sample_std():
    m, s = mean_std([0.5, 0.7, 0.9])
    assert m == pytest.approx(0.7) and s == pytest.approx(0.2)  # sqrt((0.04 + 0 + 0.04) / 2)
    assert mean_std([0.3]) == (0.3, 0.0)
    assert all(math.isnan(x) for x in mean_std([]))


def test_sign_test_exact_binomial():
    # 3 wins, 0 losses: p = 2 * (1/8) = 0.25
    r = sign_test([0.9, 0.8, 0.7], [0.5, 0.5, 0.5])
    assert (r.wins, r.losses, r.ties, r.p_value) == (3, 0, 0, pytest.approx(0.25))
    # 5 wins 1 loss 1 tie: n=6, k=1: 2 * (1 + 6) / 64 = 0.21875
    a = [1, 1, 1, 1, 1, 0, 0.5]
    b = [0, 0, 0, 0, 0, 1, 0.5]
    r = sign_test(a, b)
    assert (r.wins, r.losses, r.ties) == (5, 1, 1) and r.p_value == pytest.approx(0.21875)
    assert sign_test([1, 0], [0, 1]).p_value == 1.0
    assert sign_test([0.5], [0.5]).p_value == 1.0


def test_paired_bootstrap_constant_difference_and_identical():
    r = paired_bootstrap([1, 1, 1, 1], [0, 0, 0, 0], samples=500, seed=3)
    assert (r.delta, r.ci_low, r.ci_high, r.p_value) == (1.0, 1.0, 1.0, 0.0)
    r = paired_bootstrap([1, 0, 1], [1, 0, 1], samples=200)
    assert r.delta == 0.0 and r.p_value == 1.0


def test_paired_bootstrap_is_seeded_and_brackets_the_delta():
    a = [1, 0, 1, 1, 0, 1, 1, 0, 1, 1]
    b = [0, 0, 1, 0, 0, 1, 0, 0, 1, 0]
    r1, r2 = paired_bootstrap(a, b, samples=1000, seed=7), paired_bootstrap(a, b, samples=1000, seed=7)
    assert r1 == r2
    assert r1.delta == pytest.approx(0.4)
    assert r1.ci_low <= 0.4 <= r1.ci_high and r1.ci_low > 0  # every diff is >= 0, four are +1
    with pytest.raises(ValueError):
        paired_bootstrap([1], [1, 0])


def _row(method: str, seed: int, scores: list[float]) -> dict:
    return {
        "task": "t",
        "engine": "e",
        "method": method,
        "seed": seed,
        "best_test": sum(scores) / len(scores),
        "test_scores": {"best": {f"q{i}": s for i, s in enumerate(scores)}},
    }


def test_pairs_match_seeds_and_only_seedless_methods_pair_with_every_seed():
    """A sweep cut short: `b` has finished seed 0 only, so `a − b` is paired on seed 0 alone (not
    `b`'s seed 0 against `a`'s seed 1); a human prompt (one run) pairs with every seed."""
    from dlpo.experiments.tables import pair_rows

    rows = [
        _row("a", 0, [1, 1, 0, 0]),
        _row("a", 1, [1, 1, 1, 1]),
        _row("b", 0, [1, 0, 0, 0]),
        _row("human:x", 0, [0, 0, 0, 0]),
    ]
    out = pair_rows(rows, ["a", "b", "human:x"], [("a", "b"), ("a", "human:x")], seedless=["human:x"])
    by = {(p["a"], p["b"]): p for p in out}
    assert by[("a", "b")]["seeds"] == 1 and by[("a", "b")]["examples"] == 4
    assert abs(by[("a", "b")]["delta"] - 0.25) < 1e-9
    assert by[("a", "human:x")]["seeds"] == 2 and by[("a", "human:x")]["examples"] == 8


def test_trials_of_different_builds_are_not_paired_but_counted():
    """A sweep resumed on another machine: `a` seed 0 ran on build X, `b` seed 0 on build Y. Their
    answers are not one model's, so `a − b` is paired on seed 1 (both on X) only, the left-out
    seed is counted, and a pair with no same-build seed shows no difference at all."""
    from dlpo.experiments.tables import markdown, pair_rows

    def built(row: dict, *builds: str) -> dict:
        return {**row, "builds": {"fwd": list(builds)}}

    rows = [
        built(_row("a", 0, [1, 1, 1, 1]), "X"),
        built(_row("a", 1, [1, 0, 0, 0]), "X"),
        built(_row("b", 0, [0, 0, 0, 0]), "Y"),
        built(_row("b", 1, [1, 1, 0, 0]), "X"),
        built(_row("c", 0, [0, 0, 0, 0]), "Y"),
        _row("d", 0, [0, 0, 0, 0]),  # no build records: paired as before
    ]
    out = pair_rows(rows, ["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("a", "d")])
    by = {(p["a"], p["b"]): p for p in out}
    assert by[("a", "b")]["seeds"] == 1 and by[("a", "b")]["other_build"] == 1
    assert abs(by[("a", "b")]["delta"] - (-0.25)) < 1e-9
    assert by[("a", "c")]["seeds"] == 0 and by[("a", "c")]["other_build"] == 1
    assert by[("a", "c")]["delta"] is None
    assert by[("a", "d")]["seeds"] == 1 and by[("a", "d")]["other_build"] == 0
    md = markdown([], out)
    assert "| t | e | a | c | 0 | - | [-, -] | - | 0/0/0 | - | 1 |" in md
