"""Statistics of a sweep: mean and sample standard deviation, a paired bootstrap over test
examples (seeded), and the exact two-sided sign test over seeds."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1); std is 0.0 for fewer than two values."""
    if not values:
        return math.nan, math.nan
    m = sum(values) / len(values)
    if len(values) < 2:
        return m, 0.0
    return m, math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


@dataclass(frozen=True)
class BootstrapResult:
    delta: float  # mean(a) - mean(b) over the paired examples
    ci_low: float
    ci_high: float
    p_value: float  # two-sided: 2 * min(P(delta* <= 0), P(delta* >= 0)), capped at 1
    n: int
    samples: int


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], samples: int = 2000, seed: int = 0, alpha: float = 0.05
) -> BootstrapResult:
    """Resample the example pairs with replacement `samples` times (seeded); the percentile CI of
    the mean difference and a two-sided p-value for 'no difference'."""
    if len(a) != len(b):
        raise ValueError(f"paired bootstrap needs equal lengths, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return BootstrapResult(math.nan, math.nan, math.nan, 1.0, 0, samples)
    diffs = [x - y for x, y in zip(a, b)]
    rng = random.Random(seed)
    stats = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    lo = stats[math.floor(alpha / 2 * (samples - 1))]
    hi = stats[math.ceil((1 - alpha / 2) * (samples - 1))]
    le = sum(s <= 0 for s in stats) / samples
    ge = sum(s >= 0 for s in stats) / samples
    return BootstrapResult(sum(diffs) / n, lo, hi, min(1.0, 2 * min(le, ge)), n, samples)


@dataclass(frozen=True)
class SignTestResult:
    wins: int
    losses: int
    ties: int
    p_value: float


def sign_test(a: Sequence[float], b: Sequence[float]) -> SignTestResult:
    """Exact two-sided sign test of paired values (ties dropped):
    p = min(1, 2 * P(X <= min(wins, losses))), X ~ Binomial(wins + losses, 1/2)."""
    if len(a) != len(b):
        raise ValueError(f"sign test needs equal lengths, got {len(a)} and {len(b)}")
    wins = sum(x > y for x, y in zip(a, b))
    losses = sum(x < y for x, y in zip(a, b))
    ties = len(a) - wins - losses
    n = wins + losses
    if n == 0:
        return SignTestResult(wins, losses, ties, 1.0)
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return SignTestResult(wins, losses, ties, min(1.0, 2 * tail))
