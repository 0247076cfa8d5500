"""Timings and peak memory of mlgate.stats on 1e6 rows, against the budgets of DESIGN §11 and issue 6.

Run: `.venv/bin/python bench/bench_stats.py` (exit status 1 if a budget is missed). Each figure is printed
with its budget and as a ratio against a reference timed in the same run on the same data (np.sort of the
1e6 float scores, or a plain numpy mean), so a slow machine shows in the reference too. Peak memory is what
tracemalloc sees allocated during the call (numpy reports to it), relative to the size of the input arrays.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from mlgate import auc, datacheck, stats

ROWS = 1_000_000
RESAMPLES = 2000
MEMORY_BUDGET = 2.0  # peak traced allocation ≤ 2 × the input arrays


def best_time(call: Callable[[], Any], repeat: int = 5) -> float:
    """The fastest of `repeat` runs (after one warm-up), in seconds."""
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory(call: Callable[[], Any]) -> int:
    """Peak bytes allocated during one call, inputs excluded (they exist before tracing starts)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def make_data(rng: np.random.Generator) -> dict[str, np.ndarray]:
    y = rng.integers(0, 2, ROWS)
    noise = rng.random((2, ROWS))
    score_h = np.clip(0.35 * y + 0.65 * noise[0], 1e-6, 1 - 1e-6)
    score_b = np.clip(0.30 * y + 0.70 * noise[1], 1e-6, 1 - 1e-6)
    target = rng.normal(size=ROWS)
    return {
        "y": y,
        "pred_h": (score_h > 0.5).astype(np.int64),
        "pred_b": (score_b > 0.5).astype(np.int64),
        "score_h": score_h,
        "score_b": score_b,
        "target": target,
        "value_h": target + 0.5 * rng.normal(size=ROWS),
        "value_b": target + 0.6 * rng.normal(size=ROWS),
    }


def cases(d: dict[str, np.ndarray]) -> list[tuple[str, float, Callable[[], Any], tuple[str, ...], str]]:
    """(name, budget in s, call, the input arrays it reads, the reference it is compared with)."""

    def interval(metric: str, y: str, h: str, b: str) -> Callable[[], Any]:
        return lambda: stats.paired_interval(metric, d[y], d[h], d[b], resamples=RESAMPLES, seed=1)

    def losses() -> None:
        for metric in ("rmse", "mae"):
            interval(metric, "target", "value_h", "value_b")()
        interval("log_loss", "y", "score_h", "score_b")()

    labels = ("y", "pred_h", "pred_b")
    return [
        ("accuracy bootstrap 1e6 × 2000", 0.050, interval("accuracy", *labels), labels, "mean"),
        ("F1 bootstrap 1e6 × 2000", 0.050, interval("f1", *labels), labels, "mean"),
        (
            "RMSE + MAE + log loss 1e6",
            0.5,
            losses,
            ("y", "target", "value_h", "value_b", "score_h", "score_b"),
            "mean",
        ),
        (
            "DeLong AUC 1e6",
            0.5,
            lambda: auc.delong(d["y"], d["score_h"], d["score_b"]),
            ("y", "score_h", "score_b"),
            "sort",
        ),
    ]


def drift_case() -> tuple[str, float, Callable[[], Any], int]:
    """Drift of 1e6 rows × 50 numeric features against a stored snapshot (PSI + KS per feature)."""
    rng = np.random.default_rng(2)
    reference = datacheck.table_from_arrays({f"f{i}": rng.normal(size=ROWS) for i in range(50)})
    snap = datacheck.snapshot(reference)
    del reference
    current = datacheck.table_from_arrays({f"f{i}": rng.normal(0.02 * i, 1, ROWS) for i in range(50)})
    size = sum(column.values.nbytes for column in current.columns.values())
    return "drift 1e6 × 50 (PSI + KS)", 2.0, lambda: datacheck.check(current, snap), size


def main() -> int:
    data = make_data(np.random.default_rng(0))
    references = {
        "sort": ("np.sort(1e6 floats)", best_time(lambda: np.sort(data["score_h"]))),
        "mean": ("np.mean(1e6 floats)", best_time(lambda: np.mean(data["score_h"]))),
    }
    for label, seconds in references.values():
        print(f"reference {label}: {seconds * 1e3:.2f} ms")
    failed = 0
    print(f"{'case':32} {'time':>9} {'budget':>8} {'×ref':>7} {'peak mem':>9} {'÷input':>7}")
    for name, budget, call, inputs, ref in cases(data):
        seconds = best_time(call)
        peak = peak_memory(call)
        ratio = peak / sum(data[k].nbytes for k in inputs)
        ok = seconds <= budget and ratio <= MEMORY_BUDGET
        failed += not ok
        print(
            f"{name:32} {seconds * 1e3:7.1f}ms {budget * 1e3:6.0f}ms {seconds / references[ref][1]:6.1f}×"
            f" {peak / 2**20:7.1f}MiB {ratio:6.2f}× {'ok' if ok else 'OVER BUDGET'}"
        )
    failed += report_drift()
    return 1 if failed else 0


def report_drift() -> int:
    name, budget, call, size = drift_case()
    seconds, peak = best_time(call, repeat=3), peak_memory(call)
    ok = seconds <= budget and peak / size <= MEMORY_BUDGET
    print(f"{name:32} {seconds * 1e3:7.1f}ms {budget * 1e3:6.0f}ms {'':>7} {peak / 2**20:7.1f}MiB"
          f" {peak / size:6.2f}× {'ok' if ok else 'OVER BUDGET'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
