"""mlgate.stats against independent references: naive resampling loops, scikit-learn, scipy, an O(n²) DeLong,
printed t tables, and seeded simulations of the gate's error rates."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
from sklearn import metrics as skm

from mlgate import auc, stats, tdist
from mlgate.stats import Decision, StatsError

Arrays = tuple[np.ndarray, ...]


# ----------------------------------------------------------------------------------------------- data


def labels_data(n: int, seed: int, classes: int = 2, acc: tuple[float, float] = (0.85, 0.8)) -> Arrays:
    """y_true and two classifiers that are right with the given rates, wrong uniformly otherwise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)

    def model(accuracy: float) -> np.ndarray:
        wrong = (y + rng.integers(1, classes, n)) % classes
        return np.where(rng.random(n) < accuracy, y, wrong)

    return y, model(acc[0]), model(acc[1])


def regression_data(n: int, seed: int) -> Arrays:
    rng = np.random.default_rng(seed)
    y = rng.normal(3.0, 2.0, n)
    return y, y + rng.normal(0, 0.9, n), y + rng.normal(0.1, 1.0, n)


def scores_data(n: int, seed: int, decimals: int | None = None) -> Arrays:
    """Binary y_true and two correlated scores (rounded to force ties when `decimals` is given)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    shared = rng.normal(size=n)
    head = 1 / (1 + np.exp(-(1.2 * y + shared + rng.normal(0, 0.7, n))))
    base = 1 / (1 + np.exp(-(1.0 * y + shared + rng.normal(0, 0.9, n))))
    if decimals is not None:
        head, base = np.round(head, decimals), np.round(base, decimals)
    return y, head, base


def cells_data(n: int, p: tuple[float, float, float, float], rng: np.random.Generator) -> Arrays:
    """Rows drawn from the joint cells (both right, head only right, base only right, both wrong).

    Only correctness matters to accuracy, so y_true is all 1 and a wrong prediction is 0; the rows come
    sorted by cell, which a bootstrap over rows cannot see.
    """
    cell = np.repeat(np.arange(4), rng.multinomial(n, p))
    return np.ones(n, dtype=np.int64), (cell <= 1).astype(np.int64), (cell % 2 == 0).astype(np.int64)


# ----------------------------------------------------------------------------------------------- references


def _f1(y: np.ndarray, p: np.ndarray) -> float:
    tp = np.sum((y == 1) & (p == 1))
    return float(2 * tp / (np.sum(p == 1) + np.sum(y == 1)))


def _macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    classes = range(3)
    return float(
        np.mean([2 * np.sum((y == c) & (p == c)) / (np.sum(p == c) + np.sum(y == c)) for c in classes])
    )


def _r2(y: np.ndarray, p: np.ndarray) -> float:
    return float(1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(-np.mean(np.log(np.where(y == 1, p, 1 - p))))


NAIVE: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": lambda y, p: float(np.mean(y == p)),
    "precision": lambda y, p: float(np.sum((y == 1) & (p == 1)) / np.sum(p == 1)),
    "recall": lambda y, p: float(np.sum((y == 1) & (p == 1)) / np.sum(y == 1)),
    "f1": _f1,
    "mse": lambda y, p: float(np.mean((y - p) ** 2)),
    "rmse": lambda y, p: float(np.sqrt(np.mean((y - p) ** 2))),
    "mae": lambda y, p: float(np.mean(np.abs(y - p))),
    "r2": _r2,
    "log_loss": _log_loss,
}


def naive_bootstrap(
    metric: Callable[[np.ndarray, np.ndarray], float], data: Arrays, resamples: int, seed: int
) -> tuple[float, float, float]:
    """Rows resampled with replacement, the metric recomputed on each side: (2.5 %, 97.5 %, SD of Δ*)."""
    y, head, base = data
    rng = np.random.default_rng(seed)
    deltas = np.empty(resamples)
    for i in range(resamples):
        idx = rng.integers(0, y.shape[0], y.shape[0])
        deltas[i] = metric(y[idx], head[idx]) - metric(y[idx], base[idx])
    low, high = np.quantile(deltas, [0.025, 0.975])
    return float(low), float(high), float(deltas.std())


def quantile_tolerance(sd: float, resamples: int) -> float:
    """4 standard errors of the difference of two 2.5 % bootstrap quantiles, each from `resamples` draws.

    SE of a q-quantile ≈ √(q(1 − q)/B) / f(x_q); for a normal f(x_q) = φ(1.96)/sd, so SE ≈ 2.67·sd/√B.
    """
    return 4 * math.sqrt(2) * 2.67 * sd / math.sqrt(resamples)


def slow_delong(y: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> tuple[float, float, float]:
    """DeLong, DeLong & Clarke-Pearson (1988) as written: placement values from the full ψ matrix, O(n²)."""
    pos, neg = y == 1, y == 0
    v10, v01 = [], []
    for s in (s1, s2):
        psi = (s[pos][:, None] > s[neg][None, :]) + 0.5 * (s[pos][:, None] == s[neg][None, :])
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    cov = np.cov(np.vstack(v10)) / pos.sum() + np.cov(np.vstack(v01)) / neg.sum()
    return float(v10[0].mean()), float(v10[1].mean()), float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])


# ----------------------------------------------------------------------------------------------- point values


@pytest.mark.parametrize(
    ("metric", "reference"),
    [
        ("accuracy", skm.accuracy_score),
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ],
)
def test_count_metric_equals_sklearn_when_binary(metric: str, reference: Callable[..., float]) -> None:
    y, head, base = labels_data(1500, seed=3)
    result = stats.paired_interval(metric, y, head, base, resamples=200)
    assert result.head == pytest.approx(reference(y, head), abs=1e-12)
    assert result.base == pytest.approx(reference(y, base), abs=1e-12)
    assert result.estimate == pytest.approx(reference(y, head) - reference(y, base), abs=1e-12)
    assert result.n == 1500
    assert result.resamples == 200


@pytest.mark.parametrize(
    ("metric", "reference"),
    [("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)],
)
def test_macro_metric_equals_sklearn_when_multiclass(metric: str, reference: Callable[..., float]) -> None:
    y, head, base = labels_data(1500, seed=4, classes=5, acc=(0.6, 0.5))
    head[:3] = 7  # a class only head predicts: sklearn counts it in the macro average, so must we
    result = stats.paired_interval(metric, y, head, base, average="macro", resamples=200)
    labels = np.unique(np.concatenate([y, head, base]))
    expected = [reference(y, p, average="macro", labels=labels, zero_division=0) for p in (head, base)]
    assert (result.head, result.base) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("metric", "reference"),
    [
        ("mse", skm.mean_squared_error),
        ("rmse", skm.root_mean_squared_error),
        ("mae", skm.mean_absolute_error),
        ("r2", skm.r2_score),
    ],
)
def test_mean_metric_equals_sklearn_when_regression(metric: str, reference: Callable[..., float]) -> None:
    y, head, base = regression_data(1200, seed=5)
    result = stats.paired_interval(metric, y, head, base, resamples=200)
    assert (result.head, result.base) == pytest.approx([reference(y, head), reference(y, base)], rel=1e-12)


def test_log_loss_equals_sklearn_when_scores_or_probabilities() -> None:
    y, head, base = scores_data(1200, seed=6)
    head[:2] = 1 - y[:2]  # certain and wrong: clipped to float64's eps, as scikit-learn does
    binary = stats.paired_interval("log_loss", y, head, base, resamples=200)
    assert (binary.head, binary.base) == pytest.approx(
        [skm.log_loss(y, head), skm.log_loss(y, base)], rel=1e-12
    )
    proba = np.stack([1 - head, head], axis=1)
    two_d = stats.paired_interval("log_loss", y, proba, np.stack([1 - base, base], axis=1), resamples=200)
    assert two_d.estimate == pytest.approx(binary.estimate, rel=1e-12)


# ----------------------------------------------------------------------------------------------- bootstrap


@pytest.mark.parametrize("metric", ["accuracy", "precision", "recall", "f1"])
def test_count_bootstrap_matches_naive_resampling_when_2000_rows(metric: str) -> None:
    data = labels_data(2000, seed=7)
    resamples = 2000
    result = stats.paired_interval(metric, *data, resamples=resamples, seed=11)
    low, high, sd = naive_bootstrap(NAIVE[metric], data, resamples, seed=12)
    tolerance = quantile_tolerance(sd, resamples)
    assert result.low == pytest.approx(low, abs=tolerance)
    assert result.high == pytest.approx(high, abs=tolerance)
    assert result.method.startswith("paired bootstrap (multinomial counts")


def test_macro_f1_bootstrap_matches_naive_resampling_when_three_classes() -> None:
    data = labels_data(2000, seed=8, classes=3, acc=(0.7, 0.66))
    result = stats.paired_interval("f1", *data, average="macro", resamples=2000, seed=13)
    low, high, sd = naive_bootstrap(_macro_f1, data, 2000, seed=14)
    assert (result.low, result.high) == pytest.approx([low, high], abs=quantile_tolerance(sd, 2000))


@pytest.mark.parametrize("metric", ["mse", "rmse", "mae", "r2", "log_loss"])
def test_mean_bootstrap_matches_naive_resampling_when_2000_rows(metric: str) -> None:
    data = scores_data(2000, seed=9) if metric == "log_loss" else regression_data(2000, seed=9)
    result = stats.paired_interval(metric, *data, resamples=2000, seed=15)
    low, high, sd = naive_bootstrap(NAIVE[metric], data, 2000, seed=16)
    assert (result.low, result.high) == pytest.approx([low, high], abs=quantile_tolerance(sd, 2000))
    assert result.method == "paired bootstrap (percentile)"


@pytest.mark.parametrize("metric", ["mse", "rmse", "mae", "r2", "log_loss"])
def test_normal_interval_agrees_with_bootstrap_when_rows_exceed_normal_above(metric: str) -> None:
    data = scores_data(5000, seed=10) if metric == "log_loss" else regression_data(5000, seed=10)
    boot = stats.paired_interval(metric, *data, resamples=4000, seed=17)
    normal = stats.paired_interval(metric, *data, normal_above=1000)
    assert normal.method == "normal (delta method)"
    assert normal.resamples == 0
    assert normal.estimate == pytest.approx(boot.estimate, rel=1e-12)
    assert (normal.low, normal.high) == pytest.approx([boot.low, boot.high], abs=0.08 * boot.resolution)


def test_normal_interval_is_finite_when_head_fits_exactly() -> None:
    y, _, base = regression_data(3000, seed=18)
    result = stats.paired_interval("rmse", y, y.copy(), base, normal_above=100)
    assert result.head == 0.0
    assert math.isfinite(result.low)
    assert result.high < 0


def test_interval_is_reproducible_when_same_seed() -> None:
    data = labels_data(800, seed=19)
    first = stats.paired_interval("f1", *data, seed=42)
    assert stats.paired_interval("f1", *data, seed=42) == first
    assert stats.paired_interval("f1", *data, seed=np.random.default_rng(42)) == first
    assert stats.paired_interval("f1", *data, seed=43) != first
    regression = regression_data(800, seed=19)
    assert stats.paired_interval("r2", *regression, seed=5) == stats.paired_interval(
        "r2", *regression, seed=5
    )


def test_interval_is_zero_width_when_head_equals_base() -> None:
    y, head, _ = labels_data(600, seed=20)
    result = stats.paired_interval("accuracy", y, head, head.copy())
    assert (result.low, result.high, result.estimate) == (0.0, 0.0, 0.0)
    assert stats.decide(result.low, result.high, 0.0) is Decision.PASS


def test_interval_level_widens_interval_when_higher() -> None:
    data = labels_data(1000, seed=21)
    narrow = stats.paired_interval("accuracy", *data, level=0.8, seed=1)
    wide = stats.paired_interval("accuracy", *data, level=0.99, seed=1)
    assert wide.low < narrow.low < narrow.high < wide.high
    assert wide.level == 0.99


def test_to_interval_flips_when_lower_is_better() -> None:
    data = regression_data(3000, seed=22)
    result = stats.paired_interval("rmse", *data)
    assert result.high < 0  # head has the lower error
    flipped = result.to_interval(higher_is_better=False)
    assert (flipped.low, flipped.high) == (-result.high, -result.low)
    kept = result.to_interval(higher_is_better=True)
    assert (kept.low, kept.high, kept.level, kept.method) == (result.low, result.high, 0.95, result.method)


# ----------------------------------------------------------------------------------------------- DeLong


@pytest.mark.parametrize(("seed", "decimals"), [(1, None), (2, None), (3, 1), (4, 2)])
def test_delong_equals_quadratic_reference_when_random_data(seed: int, decimals: int | None) -> None:
    y, head, base = scores_data(600, seed=seed, decimals=decimals)
    result = auc.delong(y, head, base)
    auc_h, auc_b, variance = slow_delong(y, head, base)
    assert result.auc_head == pytest.approx(auc_h, abs=1e-12)
    assert result.auc_base == pytest.approx(auc_b, abs=1e-12)
    assert result.variance == pytest.approx(variance, abs=1e-9, rel=1e-9)
    assert (result.positives, result.negatives) == (int(y.sum()), int((1 - y).sum()))


@pytest.mark.parametrize("decimals", [None, 1, 3])
def test_auc_equals_sklearn_when_ties_or_none(decimals: int | None) -> None:
    y, head, base = scores_data(5000, seed=23, decimals=decimals)
    result = auc.delong(y, head, base)
    assert abs(result.auc_head - skm.roc_auc_score(y, head)) <= 1e-12
    assert abs(result.auc_base - skm.roc_auc_score(y, base)) <= 1e-12
    assert abs(auc.roc_auc(y, head) - skm.roc_auc_score(y, head)) <= 1e-12


def test_delong_interval_and_p_value_follow_normal_when_variance_known() -> None:
    y, head, base = scores_data(3000, seed=24)
    result = auc.delong(y, head, base, level=0.9)
    z = result.delta / result.se
    assert result.p_value == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(abs(z) / math.sqrt(2)))), rel=1e-9)
    assert result.interval.low == pytest.approx(result.delta - 1.6448536269514722 * result.se, rel=1e-12)
    assert result.interval.method == "DeLong"
    assert stats.paired_interval("roc_auc", y, head, base, level=0.9) == result.interval


def test_delong_gives_p_one_when_scores_identical() -> None:
    y, head, _ = scores_data(400, seed=25)
    result = auc.delong(y, head, head.copy())
    assert (result.delta, result.variance, result.p_value) == (0.0, 0.0, 1.0)
    constant = auc.delong(y, np.full(400, 0.5), np.full(400, 0.5))
    assert (constant.auc_head, constant.p_value) == (0.5, 1.0)


# ----------------------------------------------------------------------------------------------- Welch, t


@pytest.mark.parametrize(
    ("p", "df", "table"),
    [
        (0.975, 1, 12.706),
        (0.975, 2, 4.303),
        (0.975, 3, 3.182),
        (0.975, 5, 2.571),
        (0.975, 10, 2.228),
        (0.975, 30, 2.042),
        (0.975, 120, 1.980),
        (0.995, 3, 5.841),
        (0.95, 4, 2.132),
        (0.9, 10, 1.372),
        (0.9995, 1, 636.619),
        (0.025, 5, -2.571),
    ],
)
def test_t_quantile_matches_table_when_known_values(p: float, df: float, table: float) -> None:
    assert tdist.student_t_quantile(p, df) == pytest.approx(table, abs=1e-3)


@pytest.mark.parametrize("df", [0.7, 1.5, 3.3, 7.9, 25.0, 400.0, 9999.0, 10001.0, 1e6, 1e12])
def test_t_quantile_matches_scipy_when_fractional_df(df: float) -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    for p in (0.6, 0.9, 0.975, 0.999):
        assert tdist.student_t_quantile(p, df) == pytest.approx(scipy_stats.t.ppf(p, df), rel=1e-9)


# ----------------------------------------------------------------------------------------------- decisions


@pytest.mark.parametrize(
    ("low", "high", "margin", "expected"),
    [
        (-0.004, 0.01, 0.005, Decision.PASS),
        (0.002, 0.01, 0.0, Decision.PASS),
        (-0.02, -0.006, 0.005, Decision.FAIL),
        (-0.02, 0.003, 0.005, Decision.INCONCLUSIVE),
        (-0.005, 0.01, 0.005, Decision.INCONCLUSIVE),  # low == −m is not above it
        (-0.02, -0.005, 0.005, Decision.INCONCLUSIVE),  # high == −m is not below it
        (-0.005, -0.005, 0.005, Decision.PASS),  # no uncertainty, a change equal to the tolerance
        (-0.006, -0.006, 0.005, Decision.FAIL),
    ],
)
def test_decide_follows_three_way_rule(low: float, high: float, margin: float, expected: Decision) -> None:
    assert stats.decide(low, high, margin) is expected
    assert stats.decide(low, high, margin) == expected.value


@pytest.mark.parametrize(("low", "high", "margin"), [(math.nan, 0.1, 0.01), (0.2, 0.1, 0.01), (0, 1, -0.1)])
def test_decide_refuses_when_inputs_invalid(low: float, high: float, margin: float) -> None:
    with pytest.raises(StatsError):
        stats.decide(low, high, margin)


def test_bonferroni_level_splits_error_budget_when_several_metrics() -> None:
    assert stats.bonferroni_level(0.95, 1) == pytest.approx(0.95)
    assert stats.bonferroni_level(0.95, 5) == pytest.approx(0.99)
    with pytest.raises(StatsError, match="at least one metric"):
        stats.bonferroni_level(0.95, 0)


def test_resolution_matches_closed_form_when_accuracy() -> None:
    y, head, base = labels_data(5000, seed=26, acc=(0.85, 0.85))
    result = stats.paired_interval("accuracy", y, head, base, resamples=4000, seed=3)
    disagreement = float(np.mean(head != base))
    assert result.resolution == pytest.approx(stats.accuracy_resolution(5000, disagreement), rel=0.06)
    assert stats.accuracy_resolution(500, 0.08) == pytest.approx(1.959964 * math.sqrt(0.08 / 500), rel=1e-6)


# ----------------------------------------------------------------------------------------------- simulations


def gate_failures(
    trials: int, n: int, p: tuple[float, float, float, float], margin: float, seed: int
) -> float:
    """Share of simulated PRs the three-way rule fails, rows drawn from the joint cells `p`."""
    rng = np.random.default_rng(seed)
    fails = 0
    for _ in range(trials):
        result = stats.paired_interval("accuracy", *cells_data(n, p, rng), resamples=400, seed=rng)
        fails += stats.decide(result.low, result.high, margin) is Decision.FAIL
    return fails / trials


def independent(head: float, base: float) -> tuple[float, float, float, float]:
    """Joint cells of two models whose errors are independent (the widest noise for given accuracies)."""
    return (head * base, head * (1 - base), (1 - head) * base, (1 - head) * (1 - base))


def test_gate_false_failure_under_one_percent_when_models_identical() -> None:
    rate = gate_failures(5000, 500, independent(0.9, 0.9), margin=0.01, seed=100)
    print(f"false failures at Δ = 0, n = 500, m = 0.01, independent errors: {rate:.2%}")
    assert rate <= 0.01


def test_gate_false_failure_under_five_percent_when_drop_equals_margin() -> None:
    rate = gate_failures(1000, 500, independent(0.89, 0.9), margin=0.01, seed=101)
    print(f"failures at Δ = −m = −0.01, n = 500: {rate:.2%}")
    assert rate <= 0.05


def test_gate_fails_two_point_drop_when_10000_rows() -> None:
    # the PR changes 10 % of the predictions: 6 % become wrong, 4 % become right (Δ = −0.02)
    rate = gate_failures(1000, 10_000, (0.84, 0.04, 0.06, 0.06), margin=0.005, seed=102)
    print(f"failures at Δ = −0.02, n = 10,000, m = 0.005: {rate:.2%}")
    assert rate >= 0.95


def test_fixed_threshold_fails_many_unchanged_prs_when_500_rows() -> None:
    """DESIGN §6: a fixed "−1 point" threshold on 500 rows fails 13–23 % of PRs that change nothing.

    A re-trained, unchanged model disagrees with the baseline on a few % of the rows, half each way; the
    accuracy Δ is (head-only-right − base-only-right) / 500, and the threshold fails Δ < −0.01. On the same
    PRs the three-way rule fails well under 1 %.
    """
    rng = np.random.default_rng(103)
    rates = {}
    for disagreement in (0.05, 0.08):
        p = (0.9 - disagreement, disagreement / 2, disagreement / 2, 0.1)
        cells = rng.multinomial(500, p, size=20_000)
        rates[disagreement] = float(np.mean(cells[:, 1] - cells[:, 2] < -5))  # Δ < −1 point, in rows
    gate_rate = gate_failures(1000, 500, (0.82, 0.04, 0.04, 0.1), margin=0.01, seed=104)
    print(f"fixed −1 point threshold fails {rates[0.05]:.1%} (5 % disagreement), {rates[0.08]:.1%} (8 %);")
    print(f"the three-way rule fails {gate_rate:.1%} (8 %)")
    assert all(0.13 <= rate <= 0.23 for rate in rates.values())
    assert gate_rate <= 0.01


# ----------------------------------------------------------------------------------------------- degenerate


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: auc.delong([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]), "≥ 2 of each"),
        (lambda: auc.delong([0, 1, 0, 0], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]), "≥ 2 of each"),
        (lambda: auc.delong([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]), "labels 0/1"),
        (
            lambda: auc.delong([0, 1, 0, 1], [0.1, np.nan, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]),
            "head score holds NaN",
        ),
        (lambda: auc.delong([0, 1, 0, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.4]), "head score has 3 rows"),
        (lambda: stats.paired_interval("accuracy", [1], [1], [0]), "at least 2 rows"),
        (lambda: stats.paired_interval("rmse", [1.0], [1.0], [0.0]), "at least 2 rows"),
        (
            lambda: stats.paired_interval("accuracy", [0, 1, 1], [0, 1], [0, 1, 1]),
            "head has 2 rows, y_true has 3",
        ),
        (lambda: stats.paired_interval("accuracy", [0, np.nan], [0, 1], [0, 1]), "y_true holds NaN"),
        (lambda: stats.paired_interval("accuracy", [0, -1], [0, 1], [0, 1]), "negative class labels"),
        (lambda: stats.paired_interval("accuracy", [0, 0.5], [0, 1], [0, 1]), "class labels encoded"),
        (lambda: stats.paired_interval("accuracy", ["a", "b"], [0, 1], [0, 1]), "class labels encoded"),
        (
            lambda: stats.paired_interval("precision", [0, 1, 1], [0, 0, 0], [0, 1, 1]),
            "head predicts no positive",
        ),
        (lambda: stats.paired_interval("recall", [0, 0, 0], [0, 1, 1], [0, 1, 1]), "y_true has no positive"),
        (lambda: stats.paired_interval("f1", [0, 0, 0], [0, 1, 1], [0, 0, 0]), "neither y_true nor base"),
        (lambda: stats.paired_interval("f1", [0, 1, 2], [0, 1, 2], [0, 1, 2]), "average='macro'"),
        (
            lambda: stats.paired_interval("f1", [0, 1, 1], [0, 1, 1], [0, 1, 1], average="micro"),
            "average must",
        ),
        (lambda: stats.paired_interval("rmse", [1.0, 2.0], [1.0, np.nan], [1.0, 2.0]), "head holds NaN"),
        (lambda: stats.paired_interval("mae", [1.0, 2.0], ["a", "b"], [1.0, 2.0]), "head must be numeric"),
        (
            lambda: stats.paired_interval("r2", [2.0, 2.0, 2.0], [1.0, 2.0, 3.0], [2, 2, 2]),
            "y_true is constant",
        ),
        (lambda: stats.paired_interval("log_loss", [0, 1], [0.2, 1.3], [0.2, 0.7]), "within \\[0, 1\\]"),
        (lambda: stats.paired_interval("log_loss", [0, 1], [0.2, np.nan], [0.2, 0.7]), "head probabilities"),
        (
            lambda: stats.paired_interval("log_loss", [0, 2], [0.2, 0.3], [0.2, 0.7]),
            "probabilities have shape",
        ),
        (lambda: stats.paired_interval("auc", [0, 1], [0, 1], [0, 1]), "no paired interval for metric 'auc'"),
        (lambda: stats.paired_interval("accuracy", [0, 1], [0, 1], [0, 1], level=1.0), "confidence level"),
        (lambda: stats.paired_interval("accuracy", [0, 1], [0, 1], [0, 1], resamples=10), "100 resamples"),
        (lambda: stats.paired_interval("accuracy", [0, 1], [0, 1], [0, 1], seed=1.5), "seed must be"),  # type: ignore[arg-type]
        (lambda: stats.paired_interval("accuracy", [[0, 1]], [0, 1], [0, 1]), "one-dimensional"),
        (lambda: stats.accuracy_resolution(1, 0.1), "n ≥ 2"),
    ],
)
def test_degenerate_input_raises_clear_error(call: Callable[[], object], message: str) -> None:
    with pytest.raises(StatsError, match=message) as caught:
        call()
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)


def test_t_quantile_refuses_input_outside_its_domain_when_df_is_zero() -> None:
    with pytest.raises(ValueError, match="df > 0"):
        tdist.student_t_quantile(0.975, 0)
    with pytest.raises(ValueError, match="0 < p < 1"):
        tdist.student_t_quantile(1.0, 3)


def test_count_metric_equals_sklearn_when_classes_exceed_cell_table() -> None:
    y, head, base = labels_data(3000, seed=27, classes=150, acc=(0.5, 0.45))
    accuracy = stats.paired_interval("accuracy", y, head, base, resamples=200)
    assert accuracy.estimate == pytest.approx(
        skm.accuracy_score(y, head) - skm.accuracy_score(y, base), abs=1e-12
    )
    recall = stats.paired_interval("recall", y, head, base, average="macro", resamples=200)
    labels = np.unique(np.concatenate([y, head, base]))
    assert recall.head == pytest.approx(skm.recall_score(y, head, average="macro", labels=labels), abs=1e-12)
    assert recall.low < recall.estimate < recall.high


def test_count_bootstrap_stays_defined_when_all_predictions_equal() -> None:
    y = np.array([0, 1] * 50)
    result = stats.paired_interval("accuracy", y, np.zeros(100, int), np.ones(100, int))
    assert (result.head, result.base, result.estimate) == (0.5, 0.5, 0.0)
    assert result.low < 0 < result.high


def test_import_pulls_neither_scipy_nor_numpy() -> None:
    heavy = "sorted(m for m in ('scipy', 'numpy') if m in sys.modules)"
    code = f"import sys, mlgate.stats, mlgate.seeds, mlgate.auc, mlgate.noise; print({heavy})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
