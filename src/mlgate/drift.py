"""Per-feature drift from a reference sketch: exact shares at quantile edges, PSI and the KS statistic.

PSI = Σ (c − r)·ln(c / r) over the reference's deciles (numeric) or its categories plus "other"
(categorical), shares floored at 1e-4; for numeric features the KS statistic, max |F_c − F_r| over the 101
reference quantiles (within 1 % of the exact two-sample statistic; 51 and 2 % for the sketch stored with a
baseline, datasketch.py). One bucketing of each column into a uniform grid gives both in linear time.
Pure: numpy arrays and JSON mappings in, numbers out; numpy is imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

QUANTILES = 101
GRID = 1 << 16
SAMPLE_ROWS = 100_000
PSI_FLOOR = 1e-4


def compute_edges(finite: np.ndarray) -> np.ndarray:
    """101 quantiles: of every row up to SAMPLE_ROWS, else of a seeded sample, with the true min and max.

    The edges need only be near the quantiles: the shares stored at them are exact, so PSI and KS stay exact
    functions of the sketch, and a 1e6-row column is sketched in milliseconds.
    """
    import numpy as np

    sample = finite
    if finite.size > SAMPLE_ROWS:
        sample = finite[np.random.default_rng(0).integers(0, finite.size, SAMPLE_ROWS)]
    edges: np.ndarray = np.quantile(sample, np.linspace(0, 1, QUANTILES))
    edges[0], edges[-1] = finite.min(), finite.max()
    # NOTE: 6 significant digits keep the stored sketch small (datasketch); the shares are then counted at
    # the rounded edges, so they stay exact.
    rounded = np.array([float(f"{edge:.6g}") for edge in edges.tolist()])
    rounded[0], rounded[-1] = min(rounded[0], edges[0]), max(rounded[-1], edges[-1])
    return rounded


def compute_cdf(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, int]:
    """The share of the non-NaN values at or below each (sorted, finite) edge, and how many there are.

    A uniform grid of GRID cells over [e0, e_last] counts the rows in linear time; only the rows in the
    cells that hold an edge are sorted and compared with it. x ↦ (x − e0)·scale is monotone in floating
    point, so a row in a cell left of an edge's cell is below the edge, and right of it above: exact counts.
    """
    import numpy as np

    scale = GRID / float(edges[-1] - edges[0]) if edges[-1] > edges[0] else math.inf
    if not math.isfinite(scale):
        finite = values[~np.isnan(values)]
        sorted_values = np.sort(finite)
        return np.searchsorted(sorted_values, edges, side="right") / max(finite.size, 1), finite.size
    cells = _cells(values, float(edges[0]), scale)
    edge_cells = _cells(edges, float(edges[0]), scale)
    counts = np.bincount(cells, minlength=GRID + 4)
    nulls = int(counts[GRID + 3])
    boundary = np.zeros(GRID + 4, dtype=bool)
    boundary[edge_cells] = True
    inside = np.sort(values[boundary[cells]])
    counts[boundary] = 0
    below = np.concatenate([[0], np.cumsum(counts)])[edge_cells]  # rows in other cells left of the edge
    finite = values.shape[0] - nulls
    return (below + np.searchsorted(inside, edges, side="right")) / max(finite, 1), finite


def _cells(values: np.ndarray, origin: float, scale: float) -> np.ndarray:
    """Grid cell + 1 of each value: 0 below the grid, 1…GRID + 1 on it, GRID + 2 above, GRID + 3 NaN."""
    import numpy as np

    position = values - origin
    position *= scale
    np.clip(position, -1, GRID + 1, out=position)
    np.floor(position, out=position)
    position += 1
    position[np.isnan(position)] = GRID + 3
    return position.astype(np.intp)


def compute_numeric_drift(values: np.ndarray, sketch: Mapping[str, Any]) -> tuple[float, float | None]:
    """PSI over the reference deciles and KS over its 101 quantiles, from one bucketing of the values."""
    import numpy as np

    edges, ref_cdf = np.asarray(sketch["quantiles"], float), np.asarray(sketch["cdf"], float)
    points = edges.shape[0]  # 101 quantiles, or the 51 a stored sketch keeps (datasketch)
    if points not in (QUANTILES, QUANTILES // 2 + 1) or ref_cdf.shape[0] != points:
        return 0.0, None
    cur_cdf, rows = compute_cdf(values, edges)
    if not rows:
        return 0.0, None
    ks = float(np.max(np.abs(cur_cdf - ref_cdf)))
    step = (points - 1) // 10
    deciles = np.arange(step, points - 1, step)  # q10 … q90: the cut points of ten bins
    ref_share, cur_share = (np.diff(cdf[deciles], prepend=0, append=1) for cdf in (ref_cdf, cur_cdf))
    return _psi(ref_share, cur_share), ks


def compute_categorical_psi(codes: np.ndarray, categories: Sequence[str], sketch: Mapping[str, Any]) -> float:
    """PSI over the reference's categories plus "other"; `codes` index `categories`, −1 for a null."""
    import numpy as np

    counts: Mapping[str, int] = sketch.get("counts", {})
    names = list(counts)
    index = {name: i for i, name in enumerate(names)}
    mapping = np.array([index.get(c, len(names)) for c in categories] or [0], dtype=np.int64)
    present = codes[codes >= 0]
    current = np.bincount(mapping[present], minlength=len(names) + 1)
    reference = np.array([*counts.values(), int(sketch.get("other", 0))], dtype=np.float64)
    if not present.size or not reference.sum():
        return 0.0
    return _psi(reference / reference.sum(), current / present.size)


def _psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Σ (c − r)·ln(c / r) over bins that either side fills, each share floored at PSI_FLOOR."""
    import numpy as np

    used = (reference > 0) | (current > 0)
    r, c = np.maximum(reference[used], PSI_FLOOR), np.maximum(current[used], PSI_FLOOR)
    value = float(np.sum((c - r) * np.log(c / r)))
    return value if math.isfinite(value) else math.inf
