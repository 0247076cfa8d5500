"""Paired statistics of head − base on one eval set: bootstrap, DeLong, the three-way decision. Pure.

Every interval is of the raw difference Δ = metric(head) − metric(base). Orienting it so that higher is better
(negating a loss) is the caller's job: `DeltaInterval.to_interval(higher_is_better=...)` does it at the seam.

`paired_interval` picks the method from the metric's name:
- accuracy, precision, recall, f1 (binary, or `average="macro"`): paired bootstrap with the multinomial count
  trick: the rows reduce to the counts of their joint cells (y_true, head, base), a resample is one
  multinomial draw of those counts, so its cost does not grow with the rows.
- log_loss, mse, rmse, mae, r2: a function g of the means of per-example statistics z; a paired bootstrap
  of those means up to `normal_above` rows (default 10,000: ~0.2 s for r2), the delta method's normal
  interval above, where the CLT is accurate and resampling the rows would cost seconds.
- roc_auc: DeLong's test of two correlated ROC curves (`mlgate.auc`).
Repeated runs (`pooled_interval`, `welch_interval` over seeds) live in `mlgate.seeds`. numpy is imported
inside the functions that use it, so importing this module stays cheap (`mlgate diff`); scipy is never used
(quantiles: `mlgate.tdist`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from mlgate.model import Interval
from mlgate.record import Record
from mlgate.tdist import normal_quantile

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

    Floats = NDArray[np.float64]
    Labels = NDArray[np.int64]
    Mask = NDArray[np.bool_]
    Seed = int | np.random.Generator
    Sides = Callable[[Floats], tuple[Floats, Floats]]  # statistics (B, …) → (metric of head, of base)

COUNT_METRICS = ("accuracy", "precision", "recall", "f1")
MEAN_METRICS = ("log_loss", "mse", "rmse", "mae", "r2")
METRICS = (*COUNT_METRICS, *MEAN_METRICS, "roc_auc")
_LOG_EPS = (
    2.220446049250313e-16  # NOTE: log loss clips p to [eps, 1 − eps], float64's eps as scikit-learn ≥ 1.5
)


class StatsError(ValueError):
    """Input on which a statistic is undefined: one class, one row, NaN, mismatched lengths."""


class Decision(StrEnum):
    """The three-way rule of DESIGN §6; compares equal to "pass", "fail", "inconclusive"."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class DeltaInterval(Record):
    """A confidence interval of Δ = head − base (raw, not oriented), with the metric on both sides.

    `n` counts rows (Welch over seeds: runs); `resamples` is 0 for analytic intervals (normal, DeLong, Welch).
    """

    metric: str
    head: float
    base: float
    low: float
    high: float
    level: float
    method: str
    n: int
    resamples: int = 0

    @property
    def estimate(self) -> float:
        return self.head - self.base

    @property
    def resolution(self) -> float:
        """±X: the half-width of the interval of Δ under the null (the interval shifted to centre on 0)."""
        return (self.high - self.low) / 2

    def to_interval(self, *, higher_is_better: bool) -> Interval:
        """The shared model's interval, negated (ends swapped) for a metric where lower is better."""
        if higher_is_better:
            return Interval(self.low, self.high, self.level, self.method)
        return Interval(-self.high, -self.low, self.level, self.method)


class Plan(Record):
    """How one bootstrap runs: confidence level, resamples, generator, the rows above which it goes normal."""

    level: float
    resamples: int
    rng: np.random.Generator
    normal_above: int

    def percentile(
        self, metric: str, sides: tuple[float, float], deltas: Floats, n: int, how: str
    ) -> DeltaInterval:
        import numpy as np

        low, high = np.quantile(deltas, [(1 - self.level) / 2, (1 + self.level) / 2])
        method = f"paired bootstrap ({how}percentile)"
        return DeltaInterval(metric, *sides, float(low), float(high), self.level, method, n, self.resamples)


# ---- decisions


def decide(low: float, high: float, margin: float) -> Decision:
    """PASS if low > −m; FAIL only if high < −m; INCONCLUSIVE otherwise (Δ oriented so higher is better).

    A zero-width interval at exactly −m passes: a change equal to the tolerance does not exceed it.
    """
    if any(math.isnan(v) for v in (low, high, margin)) or low > high:
        raise StatsError(f"decide needs low ≤ high and no NaN, got low={low}, high={high}, margin={margin}")
    if margin < 0 or math.isinf(margin):
        raise StatsError(f"margin must be finite and ≥ 0, got {margin}")
    if low > -margin or (low == high and low >= -margin):
        return Decision.PASS
    return Decision.FAIL if high < -margin else Decision.INCONCLUSIVE


def bonferroni_level(level: float, k: int) -> float:
    """The per-metric confidence level that keeps the family of `k` gated metrics at `level`."""
    check_level(level)
    if k < 1:
        raise StatsError(f"Bonferroni needs at least one metric, got k={k}")
    return 1 - (1 - level) / k


def accuracy_resolution(n: int, disagreement: float, level: float = 0.95) -> float:
    """±X that `n` rows resolve for an accuracy Δ when the two models disagree on that share of rows."""
    check_level(level)
    if n < 2 or not 0 <= disagreement <= 1:
        raise StatsError(f"resolution needs n ≥ 2 and 0 ≤ disagreement ≤ 1, got n={n}, {disagreement}")
    return normal_quantile(0.5 + level / 2) * math.sqrt(disagreement / n)


# ---- entry point


def paired_interval(
    metric: str,
    y_true: ArrayLike,
    head: ArrayLike,
    base: ArrayLike,
    *,
    level: float = 0.95,
    resamples: int = 2000,
    seed: Seed = 0,
    average: str = "binary",
    normal_above: int = 10_000,
) -> DeltaInterval:
    """The interval of metric(head) − metric(base) on the same rows, by the method that fits the metric.

    `head`/`base` hold predicted labels (count metrics), positive-class scores or (n, k) probabilities
    (log_loss, roc_auc) or predicted values (mse, rmse, mae, r2). The same `seed` gives the same interval.
    """
    check_level(level)
    if metric == "roc_auc":
        from mlgate.auc import delong  # auc builds on this module: imported here, not at the top

        return delong(y_true, head, base, level=level).interval
    if metric not in METRICS:
        raise StatsError(f"no paired interval for metric {metric!r}; known: {', '.join(METRICS)}")
    if resamples < 100:
        raise StatsError(f"a bootstrap needs at least 100 resamples, got {resamples}")
    plan = Plan(level, resamples, rng_from(seed), normal_above)
    if metric in COUNT_METRICS:
        labels = as_labels({"y_true": y_true, "head": head, "base": base})
        return _count_bootstrap(metric, average, labels, plan)
    return mean_interval(metric, *mean_stats(metric, y_true, head, base), plan)


# ---- count metrics


def _count_bootstrap(metric: str, average: str, labels: list[Labels], plan: Plan) -> DeltaInterval:
    import numpy as np

    if metric != "accuracy" and average == "binary":
        _check_binary(metric, *labels)
    codes, counts, k = _joint_cells(*labels)
    sides = _count_sides(metric, average, codes // (k * k), (codes // k) % k, codes % k)
    n = int(counts.sum())
    head, base = (float(v[0]) for v in sides(counts[None, :].astype(np.float64)))
    dh, db = sides(plan.rng.multinomial(n, counts / n, size=plan.resamples).astype(np.float64))
    return plan.percentile(metric, (head, base), dh - db, n, "multinomial counts, ")


def _check_binary(metric: str, y: Labels, h: Labels, b: Labels) -> None:
    """Refuse labels beyond 0/1, and a precision, recall or F1 that the full data leaves undefined."""
    if max(y.max(), h.max(), b.max()) > 1:
        raise StatsError(f"{metric}: labels beyond 0/1 need average='macro'")
    for side, pred in (("head", h), ("base", b)):
        if metric == "precision" and not pred.any():
            raise StatsError(f"precision is undefined: {side} predicts no positive (class 1) row")
        if metric == "f1" and not pred.any() and not y.any():
            raise StatsError(f"f1 is undefined: neither y_true nor {side} has a positive (class 1) row")
    if metric == "recall" and not y.any():
        raise StatsError("recall is undefined: y_true has no positive (class 1) row")


def _joint_cells(y: Labels, h: Labels, b: Labels) -> tuple[Labels, Labels, int]:
    """The observed cells of (y_true, head, base), coded (y·k + h)·k + b, and how many rows fall in each."""
    import numpy as np

    k = int(max(y.max(), h.max(), b.max())) + 1
    codes = (y * k + h) * k + b
    if k**3 > 1 << 20:
        cells, counts = np.unique(codes, return_counts=True)
        return cells, counts, k
    full = np.bincount(codes, minlength=k**3)
    cells = np.flatnonzero(full)
    return cells, full[cells], k


def _count_sides(metric: str, average: str, cy: Labels, ch: Labels, cb: Labels) -> Sides:
    """A vectorised map from cell counts (B, cells) to the metric of head and of base, each (B,)."""
    import numpy as np

    if metric == "accuracy":
        hit_h, hit_b = (cy == ch).astype(np.float64), (cy == cb).astype(np.float64)
        return lambda c: ((c @ hit_h) / c.sum(axis=1), (c @ hit_b) / c.sum(axis=1))
    if average not in ("binary", "macro"):
        raise StatsError(f"{metric}: average must be 'binary' or 'macro', got {average!r}")
    classes = np.array([1]) if average == "binary" else np.unique(np.concatenate([cy, ch, cb]))
    truth, hp, bp = (np.equal.outer(cell, classes).astype(np.float64) for cell in (cy, ch, cb))

    def side(c: Floats, pred: Floats) -> Floats:  # per class (B, classes), then averaged; 0/0 counts 0
        tp, predicted, actual = c @ (truth * pred), c @ pred, c @ truth
        den = {"precision": predicted, "recall": actual, "f1": (predicted + actual) / 2}[metric]
        ratio: Floats = np.divide(tp, den, out=np.zeros_like(tp), where=den > 0).mean(axis=1)
        return ratio

    return lambda c: (side(c, hp), side(c, bp))


# ---- mean metrics


def mean_interval(metric: str, z: Floats, g: Sides, plan: Plan) -> DeltaInterval:
    """Metrics that are g(means of the rows of z (k, n)): bootstrap those means, or the delta method."""
    n = z.shape[1]
    head, base = (float(v) for v in g(z.mean(axis=1)))
    if n <= plan.normal_above:
        dh, db = g(_bootstrap_means(z, plan.resamples, plan.rng))
        return plan.percentile(metric, (head, base), dh - db, n, "")
    half = normal_quantile(0.5 + plan.level / 2) * _delta_se(z, g, head - base)
    diff = head - base
    return DeltaInterval(metric, head, base, diff - half, diff + half, plan.level, "normal (delta method)", n)


def mean_stats(metric: str, y_true: ArrayLike, head: ArrayLike, base: ArrayLike) -> tuple[Floats, Sides]:
    """Per-example statistics z (k, n) and g mapping their means (k, …) to (metric of head, of base)."""
    import numpy as np

    if metric == "log_loss":
        labels = as_labels({"y_true": y_true})[0]
        return np.stack([_log_losses(labels, head, "head"), _log_losses(labels, base, "base")]), as_is
    y, h, b = as_values({"y_true": y_true, "head": head, "base": base})
    if metric == "mae":
        return np.stack([np.abs(h - y), np.abs(b - y)]), as_is
    z = np.stack([np.square(h - y), np.square(b - y)])
    if metric != "r2":
        return z, (lambda m: (np.sqrt(m[0]), np.sqrt(m[1]))) if metric == "rmse" else as_is
    centred = y - y.mean()
    if not np.any(centred):
        raise StatsError("r2 is undefined: y_true is constant")
    z = np.concatenate([z, [centred, np.square(centred)]])  # SST / n = mean(c²) − mean(c)²
    return z, lambda m: (1 - m[0] / (m[3] - m[2] ** 2), 1 - m[1] / (m[3] - m[2] ** 2))


def as_is(means: Floats) -> tuple[Floats, Floats]:
    return means[0], means[1]


def _log_losses(y: Labels, proba: ArrayLike, side: str) -> Floats:
    """−log p(true class) per row, from positive-class scores (n,) or class probabilities (n, k)."""
    import numpy as np

    p = np.asarray(proba, dtype=np.float64)
    classes = 2 if p.ndim == 1 else p.shape[-1]
    if p.ndim not in (1, 2) or p.shape[0] != y.shape[0] or classes <= int(y.max()):
        raise StatsError(f"log_loss: {side} probabilities have shape {p.shape}, y_true {y.shape[0]} rows")
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise StatsError(f"log_loss: {side} probabilities must be finite and within [0, 1]")
    chosen = np.where(y == 1, p, 1 - p) if p.ndim == 1 else np.take_along_axis(p, y[:, None], 1)[:, 0]
    losses: Floats = -np.log(np.clip(chosen, _LOG_EPS, 1 - _LOG_EPS))
    return losses


def _bootstrap_means(z: Floats, resamples: int, rng: np.random.Generator) -> Floats:
    """Means of the rows of z (k, n) over resamples of its columns, about 2 M indices at a time: (k, B)."""
    import numpy as np

    k, n = z.shape
    out = np.empty((k, resamples))
    chunk = max(1, (1 << 21) // n)
    for start in range(0, resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, resamples - start), n), dtype=np.intp)
        for j in range(k):
            out[j, start : start + idx.shape[0]] = z[j][idx].mean(axis=1)
    return out


def _delta_se(z: Floats, g: Sides, estimate: float) -> float:
    """SE of Δ = g_head − g_base at the means of z: √(∇Δᵀ Σ ∇Δ / n), ∇Δ by forward differences.

    Forward steps keep a mean of squares ≥ 0: at an exact fit (RMSE 0) sqrt has no slope, but that row of z
    is all zeros and adds nothing whatever the slope. ∇Δᵀ z is one row, so Σ needs no k × n copy.
    """
    import numpy as np

    mean = z.mean(axis=1)
    grad = np.empty(mean.shape[0])
    for j in range(mean.shape[0]):
        up = mean.copy()
        up[j] += (step := 1e-7 * max(abs(float(mean[j])), 1e-3))
        grad[j] = (float(np.subtract(*g(up))) - estimate) / step
    return float(np.std(grad @ z, ddof=1)) / math.sqrt(z.shape[1])


# ---- input checks


def check_level(level: float) -> None:
    if not 0 < level < 1:
        raise StatsError(f"confidence level must be between 0 and 1 (exclusive), got {level}")


def rng_from(seed: Seed) -> np.random.Generator:
    import numpy as np

    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise StatsError(f"seed must be an int or a numpy Generator, got {type(seed).__name__}")
    return np.random.default_rng(seed)


def _arrays(named: dict[str, ArrayLike], rows: int | None = None) -> list[NDArray[np.generic]]:
    """1-D arrays with as many rows as y_true (or the first), at least 2; a message names the input."""
    import numpy as np

    arrays = [np.asarray(a) for a in named.values()]
    rows = arrays[0].shape[0] if rows is None and arrays[0].ndim == 1 else rows
    for name, arr in zip(named, arrays, strict=True):
        if arr.ndim != 1:
            raise StatsError(f"{name} must be one-dimensional, got shape {arr.shape}")
        if arr.shape[0] != rows:
            raise StatsError(f"{name} has {arr.shape[0]} rows, y_true has {rows}")
        if arr.shape[0] < 2:
            raise StatsError(f"a paired statistic needs at least 2 rows, {name} has {arr.shape[0]}")
    return arrays


def as_labels(named: dict[str, ArrayLike]) -> list[Labels]:
    """Class labels as int64 0..k-1 from booleans, integers or integral floats; NaN or negatives refused."""
    import numpy as np

    out = []
    for name, arr in zip(named, _arrays(named), strict=True):
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise StatsError(f"{name} holds NaN or infinite labels")
        if arr.dtype.kind not in "biuf" or (arr.dtype.kind == "f" and np.any(arr % 1 != 0)):
            raise StatsError(f"{name} must hold class labels encoded 0..k-1, got dtype {arr.dtype}")
        labels = arr.astype(np.int64, copy=False)
        if labels.min() < 0:
            raise StatsError(f"{name} holds negative class labels")
        out.append(labels)
    return out


def as_values(named: dict[str, ArrayLike], rows: int | None = None) -> list[Floats]:
    """Finite float64 arrays of one length; NaN or ±inf refused with the input's name."""
    import numpy as np

    out = []
    for name, arr in zip(named, _arrays(named, rows), strict=True):
        if arr.dtype.kind not in "biuf":
            raise StatsError(f"{name} must be numeric, got dtype {arr.dtype}")
        values = arr.astype(np.float64, copy=False)
        if not np.all(np.isfinite(values)):
            raise StatsError(f"{name} holds NaN or infinite values")
        out.append(values)
    return out
