"""ROC AUC and DeLong's test of two correlated ROC curves on the same rows (Sun & Xu 2014's midranks). Pure.

One argsort per score gives every example's placement value; the AUC is their mean and DeLong's variance of
AUC(head) − AUC(base) their covariance, O(n log n) in all. numpy is imported inside the functions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from mlgate.record import Record
from mlgate.stats import DeltaInterval, StatsError, as_labels, as_values, check_level
from mlgate.tdist import normal_quantile

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

    Floats = NDArray[np.float64]
    Mask = NDArray[np.bool_]


class DeLongResult(Record):
    """DeLong's test of AUC(head) − AUC(base) on the same rows: variance, normal interval, two-sided p."""

    auc_head: float
    auc_base: float
    variance: float
    p_value: float
    positives: int
    negatives: int
    interval: DeltaInterval

    @property
    def delta(self) -> float:
        return self.auc_head - self.auc_base

    @property
    def se(self) -> float:
        return math.sqrt(self.variance)


def roc_auc(y_true: ArrayLike, score: ArrayLike) -> float:
    """ROC AUC by midranks (ties count ½), equal to scikit-learn's roc_auc_score."""
    return delong(y_true, score, score).auc_head


def delong(
    y_true: ArrayLike, head_score: ArrayLike, base_score: ArrayLike, *, level: float = 0.95
) -> DeLongResult:
    """DeLong's test of AUC(head) − AUC(base) on the same rows (fast midrank version, Sun & Xu 2014)."""
    check_level(level)
    y = as_labels({"y_true": y_true})[0]
    scores = as_values({"head score": head_score, "base score": base_score}, rows=y.shape[0])
    positive = y == 1
    m, n = int(positive.sum()), y.shape[0]
    if y.max() > 1 or m < 2 or n - m < 2:
        raise StatsError(f"ROC AUC needs labels 0/1 with ≥ 2 of each, got {m} positive of {n} rows")
    placed = [_placements(s, positive, m) for s in scores]
    auc_h, auc_b = (float(p[positive].mean()) for p in placed)
    cov = _cov2(placed, positive) / m + _cov2(placed, ~positive) / (n - m)
    variance = max(float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]), 0.0)
    diff, half = auc_h - auc_b, normal_quantile(0.5 + level / 2) * math.sqrt(variance)
    p = math.erfc(abs(diff) / math.sqrt(2 * variance)) if variance > 0 else float(diff == 0)
    interval = DeltaInterval("roc_auc", auc_h, auc_b, diff - half, diff + half, level, "DeLong", n)
    return DeLongResult(auc_h, auc_b, variance, p, m, n - m, interval)


def _placements(score: Floats, positive: Mask, m: int) -> Floats:
    """DeLong's placement values in row order, ties ½: V10 of a positive (share of negatives scored below
    it), V01 of a negative (share of positives scored above it). One argsort, then linear passes."""
    import numpy as np

    n = score.shape[0]
    order = np.argsort(score)
    starts = _tie_starts(score[order])
    pos = positive[order]
    seen = np.zeros(n + 1, dtype=np.int64)  # seen[j]: positives among the j lowest scores
    np.cumsum(pos, out=seen[1:])
    if starts is None:  # no ties: row r of the sorted order is its own group [r, r + 1)
        below = np.add(seen[:-1], seen[1:], dtype=np.float64)
        middle = np.flatnonzero(pos) + 0.5
    else:
        ends = np.append(starts[1:], n)
        below = np.repeat(np.add(seen[starts], seen[ends], dtype=np.float64), ends - starts)
        middle = np.repeat((starts + ends) / 2, ends - starts)[pos]
    del seen
    below /= 2  # positives scored below each row, ties ½; middle − below: the same count of negatives
    below[pos] = (middle - below[pos]) / (n - m)
    below[~pos] = 1 - below[~pos] / m
    placed = np.empty(n)
    placed[order] = below
    return placed


def _tie_starts(ranked: Floats) -> NDArray[np.intp] | None:
    """Where each run of equal values starts in a sorted array; None when all values differ."""
    import numpy as np

    starts = np.flatnonzero(np.concatenate([[True], ranked[1:] != ranked[:-1]]))
    return None if starts.shape[0] == ranked.shape[0] else starts


def _cov2(placed: list[Floats], rows: Mask) -> Floats:
    """The 2 × 2 sample covariance (ddof 1) of head's and base's values over the selected rows."""
    import numpy as np

    x, y = placed[0][rows], placed[1][rows]
    x -= x.mean()
    y -= y.mean()
    cov: Floats = np.array([[x @ x, x @ y], [x @ y, y @ y]]) / (x.shape[0] - 1)
    return cov
