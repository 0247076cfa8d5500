"""Data checks: a data file's schema and per-feature drift against a reference snapshot (sketches, no rows).

`snapshot(table)` keeps, per column, its kind and dtype, null rate, and either 101 quantiles with the exact
share of rows at or below each (numeric) or the counts of its most frequent categories (categorical): JSON
that is stored with the baseline. `check(table, reference)` compares a table with such a snapshot:
- schema: columns missing or new, dtype changes, a null rate up by ≥ 5 points, the row count;
- drift per feature: PSI and, for numeric features, the KS statistic (drift.py).
1e6 rows × 50 features take well under 2 s. Warn-only unless `data.severity: fail`. CSV is read with numpy,
Parquet with pyarrow (parquet.py); both are imported inside functions.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any

from mlgate.drift import compute_categorical_psi, compute_cdf, compute_edges, compute_numeric_drift
from mlgate.errors import MetricsError
from mlgate.metrics import decode_text, load_bytes
from mlgate.parquet import is_parquet, read_parquet
from mlgate.record import Record
from mlgate.tree import FileTree

if TYPE_CHECKING:
    import numpy as np

SNAPSHOT_SCHEMA = 1
TOP_CATEGORIES = 100
NULL_RISE = 0.05
TOP_DRIFTED = 5
MAX_DATA_BYTES = 2 * 2**30
SNIFF_ROWS = 1000
NULLS = frozenset(("", "na", "nan", "null", "none", "n/a"))
_NULL_CELL = re.compile(  # a null token as a whole cell, or an empty cell (never an empty line)
    r"(?<![^,\n])(?:NA|N/A|null|NULL|None|NaN|nan)(?![^,\r\n])|(?<=,)(?=[,\r\n]|\Z)|(?<![^\n])(?=,)"
)
_BAD_COLUMN = re.compile(r"column (\d+)")


class Column(Record):
    """One feature: numeric (float64, NaN for nulls) or categorical (codes into `categories`, −1 null)."""

    name: str
    kind: str
    dtype: str
    values: np.ndarray
    categories: tuple[str, ...] = ()

    @property
    def null_rate(self) -> float:
        import numpy as np

        rows = self.values.shape[0]
        nulls = np.count_nonzero(np.isnan(self.values)) if self.kind == "numeric" else (self.values < 0).sum()
        return float(nulls) / rows if rows else 0.0


class Table(Record):
    """The columns of a data file, in file order."""

    columns: dict[str, Column]
    rows: int
    source: str = ""


class FeatureDrift(Record):
    """One feature's drift: PSI, the KS statistic (numeric only), and whether it is over the threshold."""

    name: str
    psi: float
    ks: float | None
    drifted: bool


class DataReport(Record):
    """The outcome of the data checks, as lines for the report (plain text: the report escapes it)."""

    rows: int = 0
    reference_rows: int = 0
    schema: tuple[str, ...] = ()
    drift: tuple[FeatureDrift, ...] = ()
    method: str = "psi"
    threshold: float = 0.1
    severity: str = "warn"
    skipped: str | None = None
    reference: str = "the reference"
    info: tuple[str, ...] = field(default_factory=tuple)

    @property
    def problems(self) -> int:
        return len(self.schema) + sum(f.drifted for f in self.drift)

    @property
    def failed(self) -> bool:
        """Whether the checks fail the gate: only under `data.severity: fail`."""
        return self.severity == "fail" and self.problems > 0

    def _statistic(self, feature: FeatureDrift) -> float:
        return (feature.ks or 0.0) if self.method == "ks" else feature.psi

    def lines(self) -> list[str]:
        if self.skipped is not None:
            return [f"data checks skipped: {self.skipped}"]
        label = self.method.upper()
        drifted = [f for f in self.drift if f.drifted]
        top = sorted(self.drift, key=self._statistic, reverse=True)
        lines = [f"rows: {self.rows:,} (reference {self.reference_rows:,}, {self.reference})", *self.info]
        lines += [f"schema: {item}" for item in self.schema]
        verdict = "fails the gate (data.severity: fail)" if self.failed else "warning only"
        summary = (
            f"drift ({label} ≥ {self.threshold:g}): {len(drifted)} of {len(self.drift)} features drifted"
        )
        lines.append(f"{summary}; {verdict}" if self.problems else summary)
        return lines + [_drift_line(f) for f in top[:TOP_DRIFTED] if f.psi > 0 or (f.ks or 0) > 0]


def _drift_line(feature: FeatureDrift) -> str:
    ks = f", KS {feature.ks:.3f}" if feature.ks is not None else ""
    return f"{feature.name}: PSI {feature.psi:.3f}{ks}{' (drifted)' if feature.drifted else ''}"


# ---- reading


def load_table(tree: FileTree, path: str) -> Table:
    """A CSV/TSV file with a header row → Table: a column is numeric when every non-null cell is a number.

    A Parquet file (pyarrow, `mlgate[parquet]`) keeps its own types: numbers and booleans are numeric.
    """
    if is_parquet(path):
        return table_from_arrays(read_parquet(load_bytes(tree, path, MAX_DATA_BYTES), path), path)
    text = decode_text(load_bytes(tree, path, MAX_DATA_BYTES), path)
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    first, _, body = text.partition("\n")
    header = [cell.strip() for cell in next(csv.reader([first], delimiter=delimiter), [])]
    if len(set(header)) != len(header) or not all(header):
        raise MetricsError(path, "the header row has empty or repeated column names")
    if not body.strip():
        raise MetricsError(path, "no rows: the data file has a header but no rows")
    numeric = _sniff(body, delimiter, len(header))
    cells = _parse(body, path, delimiter, header, numeric)
    columns = {name: _column(name, cells[name], numeric[i]) for i, name in enumerate(header)}
    return Table(columns, int(cells.shape[0]), path)


def _sniff(body: str, delimiter: str, width: int) -> list[bool]:
    """Which columns look numeric in the first rows (the parse corrects a guess that is wrong later)."""
    numeric = [True] * width
    head = io.StringIO(body[: 1 << 20])
    for count, row in enumerate(csv.reader(head, delimiter=delimiter)):
        if count >= SNIFF_ROWS:
            break
        for i, cell in enumerate(row[:width]):
            numeric[i] = numeric[i] and (cell.strip().lower() in NULLS or _is_number(cell))
    return numeric


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse(body: str, path: str, delimiter: str, header: list[str], numeric: list[bool]) -> np.ndarray:
    """numpy's C reader; null cells become `nan` once, and a column that will not parse turns categorical."""
    import numpy as np

    options: dict[str, Any] = {"delimiter": delimiter, "comments": None, "quotechar": '"', "ndmin": 1}
    normalised = False
    while True:
        dtype = np.dtype([(name, np.float64 if numeric[i] else object) for i, name in enumerate(header)])
        try:
            return np.loadtxt(io.StringIO(body), dtype=dtype, **options)
        except ValueError as exc:
            message = str(exc)
            bad = _BAD_COLUMN.search(message)
            if not normalised and delimiter == ",":
                # NOTE: one regex pass writes empty/NA cells as `nan`, which numpy's float parser accepts.
                body, normalised = _NULL_CELL.sub("nan", body), True
            elif bad and numeric[int(bad[1]) - 1]:
                numeric[int(bad[1]) - 1] = False
            else:
                raise MetricsError(path, f"invalid CSV: {message.split(';')[0].rstrip('.')}") from None


def _column(name: str, values: np.ndarray, numeric: bool) -> Column:
    import numpy as np

    if numeric:
        floats = np.asarray(values, dtype=np.float64)
        finite = floats[np.isfinite(floats)]
        dtype = "int" if finite.size and np.all(finite == np.round(finite)) else "float"
        return Column(name, "numeric", dtype, floats)
    cleaned = [str(v).strip() for v in values.tolist()]
    categories = sorted({v for v in cleaned if v.lower() not in NULLS})
    index = {c: i for i, c in enumerate(categories)}
    codes = np.fromiter((index.get(v, -1) for v in cleaned), dtype=np.int64, count=len(cleaned))
    return Column(name, "categorical", "string", codes, tuple(categories))


def table_from_arrays(arrays: Mapping[str, Any], source: str = "") -> Table:
    """A Table from in-memory columns: numeric arrays as they are, anything else as categories."""
    import numpy as np

    columns: dict[str, Column] = {}
    for name, values in arrays.items():
        array = np.asarray(values)
        numeric = array.dtype.kind in "biuf"
        columns[name] = _column(name, array.astype(np.float64) if numeric else array, numeric)
    rows = next(iter(columns.values())).values.shape[0] if columns else 0
    return Table(columns, rows, source)


# ---- snapshot


def snapshot(table: Table) -> dict[str, Any]:
    """The reference sketch of `table`: strict JSON (no NaN), a few KiB per column, no raw rows."""
    return {
        "schema": SNAPSHOT_SCHEMA,
        "rows": table.rows,
        "source": table.source,
        "columns": {name: _sketch(column) for name, column in table.columns.items()},
    }


def _sketch(column: Column) -> dict[str, Any]:
    import numpy as np

    item: dict[str, Any] = {"kind": column.kind, "dtype": column.dtype, "null_rate": column.null_rate}
    if column.kind == "numeric":
        finite = column.values[np.isfinite(column.values)]
        if not finite.size:
            return {**item, "quantiles": [], "cdf": [], "n": 0}
        edges = compute_edges(finite)
        cdf, counted = compute_cdf(finite, edges)
        return {**item, "quantiles": edges.tolist(), "cdf": cdf.tolist(), "n": counted}
    counts = np.bincount(column.values[column.values >= 0], minlength=len(column.categories))
    order = np.argsort(-counts, kind="stable")[:TOP_CATEGORIES]
    kept = {column.categories[i]: int(counts[i]) for i in order if counts[i]}
    other = int(counts.sum()) - sum(kept.values())
    return {**item, "counts": kept, "other": other, "distinct": int(np.count_nonzero(counts))}


# ---- checks


def check(
    table: Table,
    reference: Mapping[str, Any],
    *,
    method: str = "psi",
    threshold: float = 0.1,
    severity: str = "warn",
    label: str = "the reference",
) -> DataReport:
    """Schema and drift of `table` against a `snapshot` (as stored: a JSON mapping)."""
    try:
        ref_columns: Mapping[str, Any] = reference["columns"]
        ref_rows = int(reference["rows"])
    except (KeyError, TypeError, ValueError):
        return DataReport(skipped="the reference snapshot is damaged (no columns or rows)")
    schema = _schema(table, ref_columns, ref_rows)
    drift = []
    for name, column in table.columns.items():
        sketch = ref_columns.get(name)
        if sketch is not None and sketch.get("kind") == column.kind:
            psi, ks = _feature_drift(column, sketch)
            value = ks if method == "ks" else psi
            drift.append(FeatureDrift(name, psi, ks, value is not None and value >= threshold))
    return DataReport(
        table.rows, ref_rows, tuple(schema), tuple(drift), method, threshold, severity, None, label
    )


def _schema(table: Table, ref_columns: Mapping[str, Any], ref_rows: int) -> list[str]:
    missing = [name for name in ref_columns if name not in table.columns]
    found = [f"column {name!r} is missing (the reference has it)" for name in missing]
    for name, column in table.columns.items():
        sketch = ref_columns.get(name)
        if sketch is None:
            found.append(f"column {name!r} is new")
            continue
        if (sketch.get("kind"), sketch.get("dtype")) != (column.kind, column.dtype):
            was = f"{sketch.get('kind')} {sketch.get('dtype')}"
            found.append(f"{name!r}: {was} → {column.kind} {column.dtype}")
        before, now = float(sketch.get("null_rate", 0.0)), column.null_rate
        if now - before >= NULL_RISE:
            found.append(f"{name!r}: null rate {before:.1%} → {now:.1%}")
    if ref_rows and not 0.5 <= table.rows / ref_rows <= 2:
        found.append(f"row count {ref_rows:,} → {table.rows:,}")
    return found


def _feature_drift(column: Column, sketch: Mapping[str, Any]) -> tuple[float, float | None]:
    if column.kind == "numeric":
        return compute_numeric_drift(column.values, sketch)
    return compute_categorical_psi(column.values, column.categories, sketch), None
