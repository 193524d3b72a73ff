"""The few statistics the governance report needs, exact where it matters.

Written here rather than taken from SciPy: the report needs two exact tests and
quantiles, under a hundred lines, and SciPy would be a large compiled dependency for
them. Up to EXACT_LIMIT observations the tests use exact integer arithmetic, so "as or
more extreme than observed" is decided without a floating-point tolerance. Beyond it
exact integers grow too long to be quick (a pooled row of rater comparisons can hold
hundreds of thousands), so the same sums run in log space, comparing with SciPy's
relative tolerance of 1e-7.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

FISHER = "Fisher's exact test (two-sided)"
SIGN = "exact sign test (two-sided)"
ALPHA = 0.05
EXACT_LIMIT = 20_000
_TOLERANCE = math.log1p(1e-7)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _share(logs: list[float], observed: float) -> float:
    """sum(exp(x) for x <= observed) / sum(exp(x)), without overflow."""
    top = max(logs)
    total = math.fsum(math.exp(x - top) for x in logs)
    extreme = math.fsum(math.exp(x - top) for x in logs if x <= observed + _TOLERANCE)
    return min(1.0, extreme / total)


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test on the 2x2 table [[a, b], [c, d]].

    The p-value sums the probabilities of every table with the same margins that is no
    more probable than the observed one (the conditional, "minimum likelihood" definition
    R's fisher.test and SciPy use).
    """
    if min(a, b, c, d) < 0:
        raise ValueError("counts must not be negative")
    row1, col1, total = a + b, a + c, a + b + c + d
    if total == 0:
        return 1.0
    lo, hi = max(0, col1 - (total - row1)), min(row1, col1)
    if total > EXACT_LIMIT:
        logs = [_log_comb(col1, k) + _log_comb(total - col1, row1 - k)
                for k in range(lo, hi + 1)]
        return _share(logs, logs[a - lo])
    # weight(k) = C(col1, k) * C(total - col1, row1 - k): the hypergeometric probability
    # times C(total, row1). Successive weights differ by a rational factor, and each is
    # an integer, so the recurrence stays exact with integer division.
    weights = []
    w = math.comb(col1, lo) * math.comb(total - col1, row1 - lo)
    for k in range(lo, hi + 1):
        weights.append(w)
        if k < hi:
            w = w * (col1 - k) * (row1 - k) // ((k + 1) * (total - col1 - row1 + k + 1))
    observed = weights[a - lo]
    extreme = sum(x for x in weights if x <= observed)
    return float(Fraction(extreme, sum(weights)))


def sign_test(above: int, below: int) -> float:
    """Two-sided exact sign test: are ``above`` and ``below`` equally likely? Ties are left
    out by the caller."""
    n = above + below
    if n == 0:
        return 1.0
    k = min(above, below)
    if n > EXACT_LIMIT:
        logs = [_log_comb(n, i) for i in range(n + 1)]
        return _share(logs, logs[k])
    term = tail = 1  # C(n, 0); each next term by the exact recurrence
    for i in range(k):
        term = term * (n - i) // (i + 1)
        tail += term
    return float(min(Fraction(1), Fraction(2 * tail, 2 ** n)))


def quantile(sorted_values: Sequence[float], percent: int) -> float:
    """The ``percent``-th percentile by linear interpolation between closest ranks
    (Hyndman and Fan type 7, the default of R, NumPy and spreadsheets), computed exactly.
    ``sorted_values`` must be sorted and not empty."""
    if not sorted_values:
        raise ValueError("quantile of no values")
    h = Fraction((len(sorted_values) - 1) * percent, 100)
    lo = math.floor(h)
    if lo + 1 >= len(sorted_values):
        return float(sorted_values[-1])
    low, high = Fraction(sorted_values[lo]), Fraction(sorted_values[lo + 1])
    return float(low + (h - lo) * (high - low))


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None
