"""Bench for DESIGN §11: a 1e7-point training curve drawn to PNG in ≤ 0.3 s, with same-run reference ratios.

Run: .venv/bin/python bench/bench_plots.py [--points N] [--repeat R] [--lists] [--check]

Prints the one-off matplotlib import, the first (cold) and median (warm) time to turn N points into a PNG,
the budget, and the ratio against two references measured in the same process: `np.sort` of N floats and
rendering a 2,000-point curve. `--lists` also times the same curve given as Python lists (what a CSV reader
returning list[float] would hand over). `--check` exits 1 when the warm median is over budget.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

BUDGET_S = 0.3


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def row(label: str, seconds: float, note: str = "") -> None:
    print(f"{label:<30} {seconds * 1000:8.1f} ms   {note}".rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lists", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401

    import_s = time.perf_counter() - start
    import numpy as np

    from mlgate import plotdata, plots

    rng = np.random.default_rng(0)
    table = {
        "step": np.arange(args.points, dtype=np.float64),
        "loss": np.cumsum(rng.standard_normal(args.points)),
    }
    small = {key: values[:: max(1, args.points // 2_000)][:2_000] for key, values in table.items()}
    out = Path(tempfile.mkdtemp(prefix="mlgate-bench-plots-"))

    def curve(data: Mapping[str, Any], name: str) -> None:
        plots.plot_curve(name, data, None, "step", ["loss"], out)

    cold = timed(lambda: curve(table, "big"), 1)[0]
    warm = statistics.median(timed(lambda: curve(table, "big"), args.repeat))
    decimate = statistics.median(
        timed(lambda: plotdata.decimate_minmax(table["step"], table["loss"], 640), args.repeat)
    )
    sort_ref = statistics.median(timed(lambda: np.sort(table["loss"]), args.repeat))
    small_ref = statistics.median(timed(lambda: curve(small, "small"), args.repeat))

    print(f"points                         {args.points:,}")
    row("matplotlib import (one-off)", import_s)
    row("N-point curve → PNG, cold", cold, "first figure of the process")
    row("N-point curve → PNG, warm", warm, f"median of {args.repeat}")
    row("  of which decimation", decimate)
    row("budget", BUDGET_S, "OK" if warm <= BUDGET_S else "OVER")
    row("reference np.sort(N floats)", sort_ref, f"ratio curve/sort  {warm / sort_ref:6.2f}")
    row("reference 2,000-point curve", small_ref, f"ratio curve/small {warm / small_ref:6.2f}")
    if args.lists:
        as_lists = {key: values.tolist() for key, values in table.items()}
        listed = statistics.median(timed(lambda: curve(as_lists, "big"), max(1, args.repeat // 2)))
        row("same curve from Python lists", listed, "list → array conversion included")
    shutil.rmtree(out)
    return 1 if args.check and warm > BUDGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
