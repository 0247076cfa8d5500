"""Statistics of repeated runs: pooling re-runs on one eval set, and Welch's t interval over seeds. Pure.

`pooled_interval` averages the per-example terms of repeated head runs on the same rows and bootstraps the
examples once (the confirmation re-run, confirm.py). `welch_interval` compares the mean of several
independent runs (seeds, a metrics file's `repeats`) of head with those of base; `welch_terms` keeps its
arithmetic for `mlgate explain`. numpy is imported inside the functions that use it; scipy is never used
(quantiles: `mlgate.tdist`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from mlgate.record import Record
from mlgate.stats import (
    MEAN_METRICS,
    DeltaInterval,
    Plan,
    StatsError,
    as_is,
    as_labels,
    check_level,
    mean_interval,
    mean_stats,
    rng_from,
)
from mlgate.tdist import student_t_quantile

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from mlgate.stats import Floats, Seed, Sides

POOLED_METRICS = ("accuracy", *MEAN_METRICS)


# ---- repeated runs on one eval set (the confirmation re-run)


def pooled_interval(
    metric: str,
    runs: Sequence[tuple[ArrayLike, ArrayLike, ArrayLike]],
    *,
    level: float = 0.95,
    resamples: int = 2000,
    seed: Seed = 0,
    normal_above: int = 10_000,
) -> DeltaInterval:
    """The interval of the runs' mean metric(head_r) − metric(base); each run is (y_true, head_r, base) on
    the same rows in the same order.

    Each run's per-example terms (correct or not, loss, squared error) are averaged over the runs, and the
    examples are then resampled once for all runs: the runs share the eval set, so this keeps their
    correlation. Only the part of the noise in which runs disagree shrinks; a deterministic evaluation
    gives back the one-run interval. Means of per-example terms only (POOLED_METRICS).
    """
    import numpy as np

    check_level(level)
    if metric not in POOLED_METRICS:
        raise StatsError(f"{metric} does not pool over runs (only {', '.join(POOLED_METRICS)} do)")
    stats = [_pooled_terms(metric, *run) for run in runs]
    if not stats or len({z.shape for z, _ in stats}) != 1:
        raise StatsError("pooling needs at least one run, all on the same rows")
    z = np.mean(np.stack([z for z, _ in stats]), axis=0)
    found = mean_interval(metric, z, stats[0][1], Plan(level, resamples, rng_from(seed), normal_above))
    return replace(found, method=f"{found.method} pooled over {len(stats)} runs")


def _pooled_terms(metric: str, y_true: ArrayLike, head: ArrayLike, base: ArrayLike) -> tuple[Floats, Sides]:
    import numpy as np

    if metric != "accuracy":
        return mean_stats(metric, y_true, head, base)
    y, h, b = as_labels({"y_true": y_true, "head": head, "base": base})
    return np.stack([h == y, b == y]).astype(np.float64), as_is


# ---- independent runs per side (seeds): Welch


class WelchTerms(Record):
    """The arithmetic of a Welch interval: each side's mean, variance and runs, the SE, df and t quantile."""

    head_mean: float
    head_var: float
    head_runs: int
    base_mean: float
    base_var: float
    base_runs: int
    se: float
    df: float
    t: float
    level: float

    @property
    def method(self) -> str:
        """`Welch t over 5 + 5 seeds (df 7.8)`: Welch–Satterthwaite degrees of freedom."""
        return f"Welch t over {self.head_runs} + {self.base_runs} seeds (df {self.df:.1f})"

    def interval(self, metric: str = "") -> DeltaInterval:
        diff, half = self.head_mean - self.base_mean, self.t * self.se
        runs = self.head_runs + self.base_runs
        return DeltaInterval(
            metric, self.head_mean, self.base_mean, diff - half, diff + half, self.level, self.method, runs
        )


def welch_terms(head_values: Sequence[float], base_values: Sequence[float], level: float) -> WelchTerms:
    """Welch's t for mean(head) − mean(base): SE = √(s_h²/n_h + s_b²/n_b), df by Welch–Satterthwaite."""
    check_level(level)
    h, b = [float(v) for v in head_values], [float(v) for v in base_values]
    if len(h) < 2 or len(b) < 2 or not all(math.isfinite(v) for v in h + b):
        raise StatsError(f"Welch needs ≥ 2 finite values per side, got {len(h)} head and {len(b)} base")
    (mh, vh), (mb, vb) = _mean_var(h), _mean_var(b)
    wh, wb = vh / len(h), vb / len(b)
    se2 = wh + wb
    df = se2**2 / (wh**2 / (len(h) - 1) + wb**2 / (len(b) - 1)) if se2 > 0 else len(h) + len(b) - 2.0
    t = student_t_quantile(0.5 + level / 2, df)
    return WelchTerms(mh, vh, len(h), mb, vb, len(b), math.sqrt(se2), df, t, level)


def welch_interval(
    head_values: Sequence[float], base_values: Sequence[float], *, level: float = 0.95, metric: str = ""
) -> DeltaInterval:
    """Welch's t interval of mean(head) − mean(base) over independent runs (seeds) on each side."""
    return welch_terms(head_values, base_values, level).interval(metric)


def _mean_var(values: list[float]) -> tuple[float, float]:
    mean = math.fsum(values) / len(values)
    return mean, math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
