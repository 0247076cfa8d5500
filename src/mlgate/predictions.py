"""Row files: per-example predictions → Predictions (numpy), and training histories → columns for plots.

Predictions are CSV/TSV, JSON Lines, `.npz` (1-D arrays named like the columns) or Parquet (with pyarrow,
`mlgate[parquet]`). Classification labels
are encoded 0..k-1 over y_true ∪ y_pred, sorted (numerically when every label is a number); `content_hash`
covers ids and y_true only, so two runs scored on the same eval set hash equal and can be paired.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mlgate.documents import parse_json
from mlgate.errors import MetricsError
from mlgate.metrics import csv_rows, decode_text, load_bytes, load_text, render
from mlgate.model import Predictions
from mlgate.parquet import is_parquet, read_parquet
from mlgate.tree import FileTree

if TYPE_CHECKING:
    import numpy as np

    from mlgate.config import PredictionsConfig

MAX_PREDICTIONS_BYTES = 2 * 2**30
MAX_HISTORY_BYTES = 256 * 2**20
_ROW = re.compile(r"at row (\d+)")

Wanted = dict[str, tuple[str, bool]]  # role (y_true, y_pred, id, score) → (column, required)
Table = dict[str, Any]  # role → the column's values (a list or a 1-D array)


def load_predictions(tree: FileTree, cfg: PredictionsConfig) -> Predictions:
    """The per-example results in `cfg.path`, read with the configured columns."""
    data = load_bytes(tree, cfg.path, MAX_PREDICTIONS_BYTES)
    wanted = _wanted(cfg)
    lower = cfg.path.lower()
    if lower.endswith(".npz"):
        table = _npz_table(data, cfg.path, wanted)
    elif is_parquet(lower):
        table = _parquet_table(data, cfg.path, wanted)
    elif lower.endswith((".jsonl", ".ndjson")):
        table = _jsonl_table(decode_text(data, cfg.path), cfg.path, wanted)
    else:
        numeric = {"score", "y_true", "y_pred"} if cfg.task == "regression" else {"score"}
        table = _csv_table(decode_text(data, cfg.path), cfg.path, wanted, numeric)
    return _build(table, cfg)


def _wanted(cfg: PredictionsConfig) -> Wanted:
    columns = cfg.columns
    wanted = {"y_true": (columns.y_true, True), "y_pred": (columns.y_pred, True)}
    if columns.id:  # NOTE: a named id column is required; "" (the default) uses `id` if present; None, no ids
        wanted["id"] = (columns.id, True)
    elif columns.id == "":
        wanted["id"] = ("id", False)
    if columns.score:
        wanted["score"] = (columns.score, True)
    return wanted


def _pick(present: Sequence[str], wanted: Wanted, path: str) -> dict[str, str]:
    for column, required in wanted.values():
        if required and column not in present:
            shown = ", ".join(present) if present else "none"
            raise MetricsError(
                path,
                f"no column {column!r} (columns: {shown})",
                hint="set predictions.columns in .mlgate.yml",
            )
    return {role: column for role, (column, _) in wanted.items() if column in present}


def _csv_table(text: str, path: str, wanted: Wanted, numeric: set[str]) -> Table:
    """numpy's C reader (half the csv module's time on 1e6 rows); numeric roles are parsed there too."""
    import numpy as np

    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    first, _, body = text.partition("\n")
    header = [cell.strip() for cell in next(csv.reader([first], delimiter=delimiter), [])]
    picked = _pick(header, wanted, path)
    if not body or body.isspace():
        raise MetricsError(path, "no rows: the predictions file has a header but no examples")
    dtype = np.dtype([(role, np.float64 if role in numeric else object) for role in picked])
    options: dict[str, Any] = {"delimiter": delimiter, "comments": None, "quotechar": '"', "ndmin": 1}
    try:
        cells = np.loadtxt(
            io.StringIO(body), dtype=dtype, usecols=[header.index(c) for c in picked.values()], **options
        )
    except ValueError as exc:
        message = _ROW.sub(lambda m: f"on line {int(m[1]) + 2}", str(exc).split(";")[0].rstrip("."))
        raise MetricsError(path, f"invalid CSV: {message}") from None
    return {role: cells[role] for role in picked}


def _jsonl_table(text: str, path: str, wanted: Wanted) -> Table:
    rows = json_lines(text, path)
    picked = _pick(list(rows[0]) if rows else [], wanted, path)
    table: Table = {}
    for role, column in picked.items():
        try:
            table[role] = [row[column] for row in rows]
        except KeyError:
            bad = next(i for i, row in enumerate(rows) if column not in row)
            raise MetricsError(
                path, f"row {bad + 1}: no {column!r} (it has {', '.join(rows[bad])})"
            ) from None
    return table


def _npz_table(data: bytes, path: str, wanted: Wanted) -> Table:
    import zipfile

    import numpy as np

    if not data.startswith(b"PK"):
        raise MetricsError(path, "not an .npz archive (numpy.savez writes a zip file)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            picked = _pick(list(archive.files), wanted, path)
            table: Table = {role: archive[column] for role, column in picked.items()}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise MetricsError(path, f"not a readable .npz archive: {exc}") from None
    for role, column in picked.items():
        if table[role].ndim != 1:
            raise MetricsError(
                path, f"array {column!r} has shape {table[role].shape}; expected one dimension"
            )
    return table


def _parquet_table(data: bytes, path: str, wanted: Wanted) -> Table:
    picked: dict[str, str] = {}

    def pick(names: Sequence[str]) -> list[str]:
        picked.update(_pick(names, wanted, path))
        return list(picked.values())

    columns = read_parquet(data, path, pick)
    return {role: columns[column] for role, column in picked.items()}


def _build(table: Table, cfg: PredictionsConfig) -> Predictions:
    import numpy as np

    path, rows = cfg.path, len(table["y_true"])
    if rows == 0:
        raise MetricsError(path, "no rows: the predictions file has a header but no examples")
    if any(len(values) != rows for values in table.values()):
        raise MetricsError(path, "the columns have different lengths")
    ids = list(map(str, _as_list(table["id"]))) if "id" in table else None
    score = _floats(table["score"], path, str(cfg.columns.score)) if "score" in table else None
    if cfg.task == "classification":
        y_true, y_pred, labels, truth = _classes(table, cfg)
    else:
        y_true = _floats(table["y_true"], path, cfg.columns.y_true)
        y_pred, labels = _floats(table["y_pred"], path, cfg.columns.y_pred), ()
        truth = np.ascontiguousarray(y_true, dtype="<f8").tobytes()
    return Predictions(
        task=cfg.task,
        y_true=y_true,
        y_pred=y_pred,
        source=path,
        content_hash=_content_hash(cfg.task, ids, truth),
        ids=np.array(ids, dtype=object) if ids is not None else None,
        score=score,
        labels=labels,
    )


def _as_list(values: Any) -> list[Any]:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _classes(table: Table, cfg: PredictionsConfig) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], bytes]:
    """y_true and y_pred encoded 0..k-1, the label names, and y_true's names as bytes for the hash."""
    import numpy as np

    true, pred = _as_list(table["y_true"]), _as_list(table["y_pred"])
    try:
        uniques = set(true) | set(pred)
    except TypeError:
        raise MetricsError(
            cfg.path, f"column {cfg.columns.y_true!r}: labels must be strings or numbers"
        ) from None
    labels, code = _label_codes(uniques)
    name_of = {raw: labels[index] for raw, index in code.items()}
    truth = "\x1f".join(map(name_of.__getitem__, true)).encode("utf-8", "surrogatepass")
    y_true = np.array(list(map(code.__getitem__, true)), dtype=np.int64)
    y_pred = np.array(list(map(code.__getitem__, pred)), dtype=np.int64)
    return y_true, y_pred, labels, truth


def _label_codes(uniques: set[Any]) -> tuple[tuple[str, ...], dict[Any, int]]:
    """Label names sorted (numerically when all are numbers: `10` after `9`) and each raw value's code."""
    numbers = {raw: _label_number(raw) for raw in uniques}
    if None not in numbers.values():
        names = {raw: _number_name(number) for raw, number in numbers.items() if number is not None}
        order = sorted(set(names.values()), key=float)
    else:
        names = {raw: raw.strip() if isinstance(raw, str) else render(raw) for raw in uniques}
        order = sorted(set(names.values()))
    index = {name: i for i, name in enumerate(order)}
    return tuple(order), {raw: index[names[raw]] for raw in uniques}


def _label_number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _number_name(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)


def _floats(values: Any, path: str, column: str) -> np.ndarray:
    import numpy as np

    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        bad = next((i for i, value in enumerate(values) if math.isnan(_to_float(value))), 0)
        raise MetricsError(
            path, f"column {column!r}, row {bad + 1}: not a number ({values[bad]!r})"
        ) from None


def _content_hash(task: str, ids: list[str] | None, truth: bytes) -> str:
    """sha256 over the task, the ids (when there are any) and y_true: the identity of the eval set."""
    digest = hashlib.sha256(f"mlgate-eval-v1\0{task}\0".encode())
    if ids is not None:
        digest.update("\x1f".join(ids).encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(truth)
    return digest.hexdigest()


def load_history(tree: FileTree, path: str) -> dict[str, list[float]]:
    """Columns of a history (DVCLive TSV, CSV/TSV, JSON Lines, JSON rows or columns): name → values.

    A cell that is not a number, or missing from its row, is NaN.
    """
    text = load_text(tree, path, limit=MAX_HISTORY_BYTES)
    lower = path.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return _row_columns(json_lines(text, path))
    if lower.endswith(".json"):
        return _json_history(parse_json(text, path), path)
    return _csv_history(csv_rows(text, path), path)


def _csv_history(rows: list[tuple[int, list[str]]], path: str) -> dict[str, list[float]]:
    (header_line, header), body = rows[0], rows[1:]
    if len(set(header)) != len(header):
        raise MetricsError(f"{path}:{header_line}", "the header repeats a column name")
    width = len(header)
    for line, cells in body:
        if len(cells) > width:
            raise MetricsError(f"{path}:{line}", f"{len(cells)} cells, but the header has {width}")
    padded = [cells + [""] * (width - len(cells)) for _, cells in body]
    columns = list(zip(*padded, strict=True)) if padded else [() for _ in header]
    return {name: [_to_float(cell) for cell in column] for name, column in zip(header, columns, strict=True)}


def _json_history(data: Any, path: str) -> dict[str, list[float]]:
    if isinstance(data, list) and all(isinstance(row, Mapping) for row in data):
        return _row_columns(data)
    if isinstance(data, Mapping) and all(isinstance(column, list) for column in data.values()):
        return {str(name): [_to_float(v) for v in column] for name, column in data.items()}
    raise MetricsError(path, "a history is a list of rows (objects) or an object of columns (lists)")


def _row_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[float]]:
    names = list(dict.fromkeys(name for row in rows for name in row))
    return {str(name): [_to_float(row.get(name)) for row in rows] for name in names}


def _to_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def json_lines(text: str, path: str) -> list[dict[str, Any]]:
    """One JSON object per non-blank line; an error names the line and column."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MetricsError(f"{path}:{number}:{exc.colno}", f"invalid JSON: {exc.msg}") from None
        if not isinstance(row, dict):
            raise MetricsError(
                f"{path}:{number}", f"each line must be a JSON object, got {type(row).__name__}"
            )
        rows.append(row)
    return rows
