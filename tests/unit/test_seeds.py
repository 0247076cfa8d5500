"""mlgate.seeds: Welch's t interval over seeds against scipy, and a seeded simulation of its gate."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from mlgate import seeds
from mlgate.stats import Decision, StatsError, bonferroni_level, decide

TRIALS = 1000
RUNS = 5
SPREAD = 0.01  # the seed-to-seed standard deviation of the metric
MARGIN = 0.005


def test_welch_interval_matches_scipy_when_several_seeds() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    head, base = [0.842, 0.851, 0.839, 0.848], [0.836, 0.829, 0.845, 0.833, 0.838]
    result = seeds.welch_interval(head, base, level=0.9, metric="accuracy")
    reference = scipy_stats.ttest_ind(head, base, equal_var=False).confidence_interval(0.9)
    assert (result.low, result.high) == pytest.approx([reference.low, reference.high], abs=1e-9)
    assert result.estimate == pytest.approx(np.mean(head) - np.mean(base), abs=1e-15)
    assert (result.metric, result.n, result.resamples) == ("accuracy", 9, 0)
    assert result.method.startswith("Welch t over 4 + 5 seeds (df ")


def test_welch_terms_give_the_interval_arithmetic_when_explained() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    head, base = [0.842, 0.851, 0.839, 0.848], [0.836, 0.829, 0.845, 0.833, 0.838]
    terms = seeds.welch_terms(head, base, 0.95)
    assert terms.se == pytest.approx(math.sqrt(np.var(head, ddof=1) / 4 + np.var(base, ddof=1) / 5))
    assert terms.t == pytest.approx(scipy_stats.t.ppf(0.975, terms.df), rel=1e-9)
    interval = terms.interval("acc")
    assert interval.high - interval.estimate == pytest.approx(terms.t * terms.se)


def test_welch_interval_is_zero_width_when_all_runs_agree() -> None:
    result = seeds.welch_interval([0.8, 0.8], [0.7, 0.7, 0.7])
    assert (result.low, result.high) == pytest.approx([0.1, 0.1], abs=1e-15)


def _fail_rate(shift: float, level: float, seed: int) -> float:
    """How often the three-way rule says FAIL when head's seeds are base's shifted by `shift`."""
    rng = np.random.default_rng(seed)
    failed = 0
    for _ in range(TRIALS):
        base = 0.85 + SPREAD * rng.standard_normal(RUNS)
        head = 0.85 + shift + SPREAD * rng.standard_normal(RUNS)
        found = seeds.welch_interval(head.tolist(), base.tolist(), level=level)
        failed += decide(found.low, found.high, MARGIN) is Decision.FAIL
    return failed / TRIALS


def test_welch_gate_rarely_fails_identical_models_when_seeds_differ() -> None:
    assert _fail_rate(0.0, 0.95, seed=1) <= 0.01
    assert _fail_rate(-MARGIN, 0.95, seed=2) <= 0.05  # at the margin itself: at most the 2.5 % one-sided tail
    assert _fail_rate(0.0, bonferroni_level(0.95, 3), seed=3) <= 0.01


def test_welch_gate_catches_a_real_drop_when_seeds_agree_on_it() -> None:
    assert _fail_rate(-0.04, 0.95, seed=4) >= 0.95


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: seeds.welch_interval([0.8], [0.7, 0.71]), "≥ 2 finite values"),
        (lambda: seeds.welch_interval([0.8, math.nan], [0.7, 0.71]), "≥ 2 finite values"),
        (lambda: seeds.welch_interval([0.8, 0.81], [0.7, 0.71], level=1.0), "confidence level"),
    ],
)
def test_degenerate_seeds_raise_clear_error_when_welch_cannot_apply(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(StatsError, match=message) as caught:
        call()
    assert "\n" not in str(caught.value)
