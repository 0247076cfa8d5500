"""The data snapshot kept with a baseline: the sketch of `data.path` as compact, versioned JSON.

Stored under the baseline snapshot's `data` key (git notes and the ci-artifact `baseline.json`). Per numeric
column: dtype, null rate, how many values the shares count (`n`), every other one of the 101 quantile edges
(51, at 6 significant digits) and the count of values in each bin (≤ e0, (e0, e1], …): the shares are exact
at the stored edges, so PSI (over the deciles, all kept) is unchanged and KS is taken over 51 points
instead of 101 (within 2 % of the exact two-sample statistic instead of 1 %). Per categorical column: its top
`STORED_CATEGORIES` categories with counts, the rest as `other`. About 0.8 KiB per column, so 50 columns
stay under 64 KiB; at most `MAX_COLUMNS` columns are kept. Raw rows are never stored.

`decode_sketch` refuses a sketch from a newer mlgate (its `schema`) or a damaged one with SketchError, which
the data checks turn into a skipped reference and the base-commit fallback. numpy inside the functions only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlgate.errors import MetricsError
from mlgate.tree import FileTree

SKETCH_SCHEMA = 1
STORED_CATEGORIES = 20
STORED_EVERY = 2  # every other quantile edge: 51 of the 101, which keeps the deciles for PSI
MAX_CATEGORY_CHARS = 200
MAX_COLUMNS = 500


class SketchError(ValueError):
    """A stored data snapshot that cannot be used; the message says why."""


def sketch_file(tree: FileTree, path: str) -> dict[str, Any]:
    """The stored form of the sketch of data file `path` (MetricsError when it cannot be read)."""
    from mlgate import datacheck

    return encode_sketch(datacheck.snapshot(datacheck.load_table(tree, path)))


def try_sketch_file(tree: FileTree, path: str | None, warn: Any) -> dict[str, Any] | None:
    """`sketch_file`, or None (with a warning) when there is no data file or it cannot be read."""
    if path is None or not tree.exists(path):
        return None
    try:
        return sketch_file(tree, path)
    except MetricsError as exc:
        warn(f"data snapshot not saved: {exc}")
        return None


def encode_sketch(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """datacheck.snapshot's dict → the stored dict: integer bin counts instead of float shares."""
    columns = dict(list(snapshot["columns"].items())[:MAX_COLUMNS])
    stored = {name: _encode_column(item) for name, item in columns.items()}
    omitted = len(snapshot["columns"]) - len(columns)
    document: dict[str, Any] = {"schema": SKETCH_SCHEMA, "rows": snapshot["rows"], "columns": stored}
    document["source"] = snapshot.get("source", "")
    return {**document, "omitted_columns": omitted} if omitted else document


def _encode_column(item: Mapping[str, Any]) -> dict[str, Any]:
    import numpy as np

    head = {"kind": item["kind"], "dtype": item["dtype"], "null_rate": round(float(item["null_rate"]), 6)}
    if item["kind"] != "numeric":
        counts = {k: int(v) for k, v in item["counts"].items() if len(k) <= MAX_CATEGORY_CHARS}
        kept = dict(list(counts.items())[:STORED_CATEGORIES])
        other = int(item["other"]) + sum(item["counts"].values()) - sum(kept.values())
        return {**head, "counts": kept, "other": other, "distinct": int(item["distinct"])}
    n = int(item.get("n", 0))
    cdf = np.asarray(item["cdf"], dtype=np.float64)[::STORED_EVERY]
    at_or_below = np.rint(cdf * n).astype(np.int64)
    bins = np.diff(at_or_below, prepend=0).tolist() if at_or_below.size else []
    return {**head, "n": n, "quantiles": list(item["quantiles"][::STORED_EVERY]), "bins": bins}


def decode_sketch(stored: Any) -> dict[str, Any]:
    """The stored dict → datacheck.snapshot's dict (shares again); SketchError when it is not usable."""
    if not isinstance(stored, Mapping) or not isinstance(stored.get("schema"), int):
        raise SketchError("the stored data snapshot has no schema version")
    if stored["schema"] > SKETCH_SCHEMA:
        raise SketchError(
            f"written by a newer mlgate (data snapshot schema {stored['schema']} > {SKETCH_SCHEMA})"
        )
    try:
        columns = {str(name): _decode_column(item) for name, item in stored["columns"].items()}
        return {
            "schema": 1,
            "rows": int(stored["rows"]),
            "source": str(stored.get("source", "")),
            "columns": columns,
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SketchError(f"the stored data snapshot is damaged ({type(exc).__name__}: {exc})") from None


def _decode_column(item: Mapping[str, Any]) -> dict[str, Any]:
    import numpy as np

    head = {"kind": str(item["kind"]), "dtype": str(item["dtype"]), "null_rate": float(item["null_rate"])}
    if head["kind"] != "numeric":
        counts = {str(k): int(v) for k, v in item["counts"].items()}
        return {**head, "counts": counts, "other": int(item["other"]), "distinct": int(item["distinct"])}
    n, bins = int(item["n"]), np.asarray(item["bins"], dtype=np.int64)
    quantiles = [float(q) for q in item["quantiles"]]
    if bins.shape[0] != len(quantiles) or (n and int(bins.sum()) > n):
        raise ValueError("bins and quantiles disagree")
    cdf = (np.cumsum(bins) / max(n, 1)).tolist()
    return {**head, "n": n, "quantiles": quantiles, "cdf": cdf}
