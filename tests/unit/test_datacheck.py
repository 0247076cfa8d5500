"""Data checks: snapshots, PSI and KS against numbers computed here independently, schema findings, CSV."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mlgate import datacheck
from mlgate.errors import MetricsError
from mlgate.tree import WorkTree


def naive_psi(ref_share: list[float], cur_share: list[float]) -> float:
    total = 0.0
    for r, c in zip(ref_share, cur_share, strict=True):
        if r == 0 and c == 0:
            continue
        r, c = max(r, 1e-4), max(c, 1e-4)
        total += (c - r) * math.log(c / r)
    return total


def shares(values: np.ndarray, cuts: list[float]) -> list[float]:
    """Shares of values in (−∞, c0], (c0, c1], …, (c_last, ∞), one Python comparison at a time."""
    counts = [0] * (len(cuts) + 1)
    for v in values.tolist():
        counts[next((i for i, c in enumerate(cuts) if v <= c), len(cuts))] += 1
    return [n / len(values) for n in counts]


def test_numeric_psi_and_ks_equal_an_independent_computation_when_a_feature_shifts() -> None:
    rng = np.random.default_rng(0)
    ref, cur = rng.normal(0, 1, 20_000), rng.normal(0.3, 1.2, 15_000)
    snap = datacheck.snapshot(datacheck.table_from_arrays({"x": ref}))
    quantiles = snap["columns"]["x"]["quantiles"]
    assert snap["columns"]["x"]["cdf"] == pytest.approx(
        [float(np.mean(ref <= q)) for q in quantiles], abs=1e-12
    )
    report = datacheck.check(datacheck.table_from_arrays({"x": cur}), snap)
    cuts = quantiles[10:100:10]
    assert report.drift[0].psi == pytest.approx(naive_psi(shares(ref, cuts), shares(cur, cuts)), rel=1e-9)
    grid_ks = max(abs(np.mean(cur <= q) - np.mean(ref <= q)) for q in quantiles)
    assert report.drift[0].ks == pytest.approx(grid_ks, abs=1e-12)
    both = np.sort(np.concatenate([ref, cur]))
    exact_ks = np.max(np.abs(np.searchsorted(np.sort(cur), both, "right") / cur.size
                             - np.searchsorted(np.sort(ref), both, "right") / ref.size))  # fmt: skip
    assert abs(report.drift[0].ks - exact_ks) <= 0.011  # the 101-quantile grid is within ~1 % of exact KS
    assert report.drift[0].drifted


def test_categorical_psi_equals_an_independent_computation_when_shares_move() -> None:
    ref = np.array(["a"] * 500 + ["b"] * 300 + ["c"] * 200, dtype=object)
    cur = np.array(["a"] * 300 + ["b"] * 300 + ["d"] * 400, dtype=object)
    snap = datacheck.snapshot(datacheck.table_from_arrays({"city": ref}))
    assert snap["columns"]["city"]["counts"] == {"a": 500, "b": 300, "c": 200}
    report = datacheck.check(datacheck.table_from_arrays({"city": cur}), snap)
    expected = naive_psi([0.5, 0.3, 0.2, 0.0], [0.3, 0.3, 0.0, 0.4])  # a, b, c, other (the unseen "d")
    assert report.drift[0].psi == pytest.approx(expected, rel=1e-12)
    assert report.drift[0].ks is None


def test_no_drift_is_reported_when_the_data_is_the_reference() -> None:
    rng = np.random.default_rng(1)
    table = datacheck.table_from_arrays({"x": rng.normal(size=5000), "k": rng.integers(0, 4, 5000)})
    report = datacheck.check(table, datacheck.snapshot(table))
    assert [(f.psi, f.ks) for f in report.drift] == [(0.0, 0.0), (0.0, 0.0)]
    assert report.problems == 0
    assert report.lines()[-1] == "drift (PSI ≥ 0.1): 0 of 2 features drifted"


def test_schema_changes_are_listed_when_columns_dtypes_nulls_and_rows_change() -> None:
    rng = np.random.default_rng(2)
    ref = datacheck.table_from_arrays({"a": rng.integers(0, 9, 1000), "b": rng.normal(size=1000),
                                       "gone": rng.normal(size=1000)})  # fmt: skip
    b = rng.normal(size=400)
    b[:100] = np.nan
    cur = datacheck.table_from_arrays({"a": rng.normal(size=400), "b": b, "new": np.zeros(400)})
    report = datacheck.check(cur, datacheck.snapshot(ref), severity="fail")
    assert report.schema == (
        "column 'gone' is missing (the reference has it)",
        "'a': numeric int → numeric float",
        "'b': null rate 0.0% → 25.0%",
        "column 'new' is new",
        "row count 1,000 → 400",
    )
    assert report.failed
    assert "fails the gate (data.severity: fail)" in "\n".join(report.lines())


def test_snapshot_is_strict_json_without_rows_when_columns_have_nulls() -> None:
    x = np.arange(100_000, dtype=float)
    x[::7] = np.nan
    snap = datacheck.snapshot(datacheck.table_from_arrays({"x": x, "c": np.array(["u", "v"] * 50_000)}))
    text = json.dumps(snap, allow_nan=False)
    assert len(text) < 8_000
    assert snap["columns"]["x"]["null_rate"] == pytest.approx(1 / 7, abs=1e-4)
    assert snap["rows"] == 100_000


def test_drift_uses_ks_when_the_method_is_ks() -> None:
    rng = np.random.default_rng(4)
    snap = datacheck.snapshot(datacheck.table_from_arrays({"x": rng.normal(size=4000)}))
    report = datacheck.check(datacheck.table_from_arrays({"x": rng.normal(0.2, 1, 4000)}), snap,
                             method="ks", threshold=0.07)  # fmt: skip
    assert report.drift[0].drifted
    assert report.drift[0].ks is not None
    assert report.drift[0].ks > 0.07 > report.drift[0].psi


def test_csv_is_read_with_nulls_and_types_when_cells_are_empty_or_text(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("age,city,score\n31,paris,0.5\n,lyon,NA\n45,,1.5\n52,paris,2\n")
    table = datacheck.load_table(WorkTree(tmp_path), "d.csv")
    assert table.rows == 4
    assert [(c.kind, c.dtype) for c in table.columns.values()] == [
        ("numeric", "int"), ("categorical", "string"), ("numeric", "float")
    ]  # fmt: skip
    assert table.columns["age"].null_rate == 0.25
    assert table.columns["city"].categories == ("lyon", "paris")
    assert table.columns["city"].null_rate == 0.25


def test_a_column_turns_categorical_when_text_appears_after_the_sniffed_rows(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i % 3}\n" for i in range(1500)) + "x,1\n"
    (tmp_path / "d.csv").write_text("id,k\n" + rows)
    table = datacheck.load_table(WorkTree(tmp_path), "d.csv")
    assert table.columns["id"].kind == "categorical"
    assert table.columns["k"].kind == "numeric"


def test_bad_csv_is_a_clear_error_when_a_row_has_too_many_cells(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(MetricsError, match=r"d\.csv: invalid CSV"):
        datacheck.load_table(WorkTree(tmp_path), "d.csv")


def test_damaged_reference_skips_the_checks_with_the_reason() -> None:
    table = datacheck.table_from_arrays({"x": np.arange(10.0)})
    assert datacheck.check(table, {"rows": 3}).lines() == [
        "data checks skipped: the reference snapshot is damaged (no columns or rows)"
    ]


def test_grid_counts_equal_searchsorted_when_values_tie_and_leave_the_range() -> None:
    rng = np.random.default_rng(5)
    ref = np.round(rng.exponential(3, 10_000))
    cur = np.concatenate([np.round(rng.exponential(4, 10_000)), [-np.inf, np.inf, -5.0, 1e9, np.nan]])
    snap = datacheck.snapshot(datacheck.table_from_arrays({"x": ref}))
    quantiles = snap["columns"]["x"]["quantiles"]
    report = datacheck.check(datacheck.table_from_arrays({"x": cur}), snap)
    finite = cur[~np.isnan(cur)]
    expected_ks = max(abs(np.mean(finite <= q) - np.mean(ref <= q)) for q in quantiles)
    assert report.drift[0].ks == pytest.approx(expected_ks, abs=1e-12)
