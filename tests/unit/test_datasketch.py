"""The data snapshot stored with a baseline: same PSI and KS after JSON, bounded size, versioned schema."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlgate import datacheck, datasketch


def _columns(rows: int, numeric: int, categorical: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    columns = {f"feature_{i:02d}": rng.normal(size=rows) * 10.0 ** (i % 5) for i in range(numeric)}
    names = [f"category_{j}" for j in range(300)]
    columns |= {f"category_{i:02d}": rng.choice(names, size=rows) for i in range(categorical)}
    return columns


def test_stored_sketch_gives_the_same_psi_and_nearly_the_same_ks_when_read_back_from_json() -> None:
    rng = np.random.default_rng(0)
    ref = {
        "x": rng.normal(0, 1, 20_000),
        "city": rng.choice(["a", "b", "c", "d"], 20_000, p=[0.4, 0.3, 0.2, 0.1]),
    }
    cur = {"x": rng.normal(0.3, 1.2, 15_000), "city": rng.choice(["a", "b", "c", "d"], 15_000)}
    snap = datacheck.snapshot(datacheck.table_from_arrays(ref))
    stored = json.loads(json.dumps(datasketch.encode_sketch(snap)))
    table = datacheck.table_from_arrays(cur)
    direct, read_back = datacheck.check(table, snap), datacheck.check(table, datasketch.decode_sketch(stored))
    for before, after in zip(direct.drift, read_back.drift, strict=True):
        assert after.psi == pytest.approx(before.psi, rel=1e-12)
        if before.ks is not None:
            assert after.ks is not None
            assert before.ks - 0.02 <= after.ks <= before.ks
    assert [f.drifted for f in read_back.drift] == [True, True]


def test_stored_sketch_stays_under_64_kib_when_the_data_has_50_columns() -> None:
    table = datacheck.table_from_arrays(_columns(200_000, 40, 10))
    text = json.dumps(datasketch.encode_sketch(datacheck.snapshot(table)), separators=(",", ":"))
    assert 20_000 < len(text) <= 64 * 1024


def test_stored_sketch_keeps_no_raw_rows_when_every_value_is_distinct() -> None:
    values = np.arange(5000) * 1.000123 + 0.1234567
    stored = datasketch.encode_sketch(datacheck.snapshot(datacheck.table_from_arrays({"x": values})))
    column = stored["columns"]["x"]
    assert len(column["quantiles"]) == 51
    assert sum(column["bins"]) == column["n"] == 5000
    text = json.dumps(stored)
    assert not [v for v in values[1:-1].tolist() if repr(v) in text]


def test_decode_refuses_the_sketch_when_a_newer_mlgate_wrote_it() -> None:
    with pytest.raises(datasketch.SketchError, match="newer mlgate"):
        datasketch.decode_sketch({"schema": 99, "rows": 1, "columns": {}})
    with pytest.raises(datasketch.SketchError, match="damaged"):
        datasketch.decode_sketch({"schema": 1, "rows": 1, "columns": {"x": {"kind": "numeric"}}})
    with pytest.raises(datasketch.SketchError, match="no schema"):
        datasketch.decode_sketch([1, 2])
