"""Quantiles of the standard normal and Student-t distributions, pure Python (no scipy).

The normal quantile is the stdlib's; the t quantile inverts the regularized incomplete beta function by
bisection, with a series above 1e4 degrees of freedom. Input outside the domain raises ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable


def normal_quantile(p: float) -> float:
    """The standard normal quantile (the stdlib's NormalDist: Wichura's AS 241, ~1e-16)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def student_t_quantile(p: float, df: float) -> float:
    """Student-t quantile by bisection on the regularized incomplete beta; a series above df 1e4.

    P(T > t) = ½·I_x(df/2, ½) with x = df/(df + t²), and P(|T| < t) = I_y(½, df/2) with y = 1 − x: the
    far tail is solved for x and the centre for y, so that t keeps its relative precision at both ends.
    """
    if not 0 < p < 1 or not df > 0:
        raise ValueError(f"t quantile needs 0 < p < 1 and df > 0, got p={p}, df={df}")
    if df > 1e4:
        return _t_expansion(normal_quantile(p), df)
    tail = min(p, 1 - p)
    if tail < 0.25:
        x = _bisect(lambda v: 0.5 * _betainc(df / 2, 0.5, v), tail)
        t = math.sqrt(df * (1 - x) / x) if x > 0 else math.inf
    else:
        y = _bisect(lambda v: _betainc(0.5, df / 2, v), 1 - 2 * tail)
        t = math.sqrt(df * y / (1 - y))
    return t if p > 0.5 else -t


def _bisect(increasing: Callable[[float], float], target: float) -> float:
    """The v in (0, 1) where an increasing function reaches target: 1e-15 relative, or until halving stops."""
    lo, mid, hi = 0.0, 0.5, 1.0
    while lo < mid < hi and hi - lo > 1e-15 * hi:
        lo, hi = (mid, hi) if increasing(mid) < target else (lo, mid)
        mid = (lo + hi) / 2
    return mid


def _t_expansion(z: float, df: float) -> float:
    """Student-t quantile from the normal one (Abramowitz & Stegun 26.7.5), error O(df⁻⁴)."""
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta I_x(a, b), 0 < x < 1, by its continued fraction (NR's betacf)."""
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast below this point; use the symmetry above
        return 1 - _betainc(b, a, 1 - x)
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    c, d = 1.0, 1 / _nonzero(1 - (a + b) * x / (a + 1))
    fraction, i = d, 0
    while abs(c * d - 1) >= 1e-16 and i < 500:
        i += 1
        even = i * (b - i) * x / ((a + 2 * i - 1) * (a + 2 * i))
        odd = -(a + i) * (a + b + i) * x / ((a + 2 * i) * (a + 2 * i + 1))
        for term in (even, odd):  # modified Lentz
            d, c = 1 / _nonzero(1 + term * d), _nonzero(1 + term / c)
            fraction *= c * d
    return math.exp(log_front) * fraction / a


def _nonzero(value: float) -> float:
    return value if abs(value) > 1e-300 else 1e-300
