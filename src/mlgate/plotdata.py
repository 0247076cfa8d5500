"""The numbers behind the plots (numpy, no matplotlib): decimation, confusion counts, ROC and PR curves.

Each function matches scikit-learn's reference (roc_curve, precision_recall_curve, average_precision_score,
confusion_matrix); the tests check them against it, so plots.py only draws.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from mlgate.errors import MetricsError
from mlgate.model import Predictions

if TYPE_CHECKING:
    import numpy as np

    Array = np.ndarray[Any, Any]
    Curve = tuple[Array, Array]

MAX_CLASSES = 30


def decimate_minmax(x: Array, y: Array, buckets: int) -> Curve:
    """The points of (x, y) that draw the same line `buckets` pixels wide: each column's min and max point.

    Non-finite points are dropped, points are ordered by x, the first and last are always kept. The result is
    a subsequence of the (sorted) input of at most 2·buckets + 2 points, so each extreme keeps its true x.
    """
    import numpy as np

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        finite = np.isfinite(x) & np.isfinite(y)
        x, y = x[finite], y[finite]
    if x.size > 1 and not (x[1:] >= x[:-1]).all():
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    if x.size <= 2 * buckets + 2:
        return x, y
    # NOTE: bucket edges by binary search on the sorted x and one argmin/argmax per bucket: no temporary the
    # size of the input, which is what keeps 1e7 points well under the DESIGN §11 budget of 0.3 s.
    edges = np.searchsorted(x, np.linspace(x[0], x[-1], buckets + 1)[1:-1], side="left")
    kept = [0, x.size - 1]
    for start, stop in itertools.pairwise(np.unique(np.r_[0, edges, x.size]).tolist()):
        kept += [start + int(y[start:stop].argmin()), start + int(y[start:stop].argmax())]
    index = np.unique(np.asarray(kept))
    return x[index], y[index]


def compute_confusion(preds: Predictions) -> Array:
    """Counts[true class, predicted class] over classes 0..k-1, k at least len(preds.labels)."""
    import numpy as np

    where = preds.source
    if preds.task != "classification":
        raise MetricsError(where, f"a confusion matrix needs a classification task, not {preds.task!r}")
    y_true, y_pred = class_codes(preds.y_true, "y_true", where), class_codes(preds.y_pred, "y_pred", where)
    if y_true.shape != y_pred.shape:
        raise MetricsError(where, f"{y_true.size} y_true values but {y_pred.size} y_pred values")
    k = max(len(preds.labels), int(y_true.max(initial=-1)) + 1, int(y_pred.max(initial=-1)) + 1)
    if k > MAX_CLASSES:
        raise MetricsError(where, f"{k} classes; a confusion matrix is drawn for at most {MAX_CLASSES}")
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def class_codes(values: Array, name: str, where: str) -> Array:
    import numpy as np

    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise MetricsError(where, f"{name} must hold class codes 0..k-1, not {array.dtype} values")
    if array.size and (not np.isfinite(array).all() or (array < 0).any() or (array != np.round(array)).any()):
        raise MetricsError(where, f"{name} must hold class codes 0..k-1")
    return array.astype(np.int64)


def compute_roc(y_true: Array, score: Array, *, drop_intermediate: bool = True) -> tuple[Array, Array, Array]:
    """(false positive rate, true positive rate, thresholds), the points `sklearn.metrics.roc_curve` gives."""
    import numpy as np

    fps, tps, thresholds = _binary_counts(y_true, score)
    if drop_intermediate and fps.size > 2:
        corners = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[corners], tps[corners], thresholds[corners]
    fps, tps, thresholds = np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thresholds]
    return fps / fps[-1], tps / tps[-1], thresholds


def compute_pr(y_true: Array, score: Array) -> tuple[Array, Array, Array]:
    """(precision, recall, thresholds), the points `sklearn.metrics.precision_recall_curve` gives."""
    import numpy as np

    fps, tps, thresholds = _binary_counts(y_true, score)
    precision, recall = tps / (tps + fps), tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def area_under(x: Array, y: Array) -> float:
    """Trapezoidal area under a curve: the ROC AUC of `compute_roc`'s points."""
    import numpy as np

    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def average_precision(precision: Array, recall: Array) -> float:
    """Step-function area under `compute_pr`'s points, as `sklearn.metrics.average_precision_score`."""
    import numpy as np

    return max(0.0, float(-np.sum(np.diff(recall) * precision[:-1])))


def _binary_counts(y_true: Array, score: Array) -> tuple[Array, Array, Array]:
    """False and true positives at each distinct score, from the highest score down."""
    import numpy as np

    order = np.argsort(score, kind="mergesort")[::-1]
    ranked, truth = score[order], y_true[order]
    last = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1]
    tps = np.cumsum(truth, dtype=np.float64)[last]
    return 1.0 + last - tps, tps, ranked[last]
