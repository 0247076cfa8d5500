"""The baseline snapshot: metrics, params, eval-set hash and run record of one commit, as versioned JSON.

Written by `mlgate baseline save` (git notes, CI artifact) and read back by the stores. A snapshot from a
newer mlgate (a higher `schema`) or one that is not valid is refused with a SnapshotError, which the stores
turn into a warning before trying the next store. A snapshot may point at its commit's predictions file,
kept beside it as a compressed blob (`attach_predictions` / `predictions_pointer`), and may hold the sketch
of the data file under `data` (datasketch.py; written on one line to keep the note small), and a metric may
hold its seeds' values under `repeats` (repeats.py). These keys are optional, so snapshots with and without
them are read by every schema-1 reader (an older reader ignores a metric's `repeats`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from mlgate import __version__
from mlgate.model import BaselineRef, Metric, MetricSet, Param, Params, RunRecord, ValueKind

SCHEMA = 1


class SnapshotError(ValueError):
    """A stored snapshot that cannot be used; the message says why."""


def dump_snapshot(
    sha: str,
    metrics: MetricSet,
    params: Params,
    *,
    saved_at: str,
    run_id: str | None = None,
    eval_hash: str | None = None,
    run: RunRecord | None = None,
    extra: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> str:
    """The JSON text of one snapshot (strict JSON: NaN and infinities are written as strings).

    `data`: the stored sketch of the data file (datasketch.encode_sketch), if one was made.
    """
    document = {
        "schema": SCHEMA,
        "tool": f"mlgate {__version__}",
        "sha": sha,
        "saved_at": saved_at,
        "run_id": run_id,
        "eval_hash": eval_hash,
        "metrics": {m.name: _metric_json(m) for m in metrics},
        "params": {p.name: {"value": p.value, "source": p.source} for p in params.params.values()},
        "run": _run_json(run) if run is not None else None,
        **(extra or {}),
    }
    if data is not None:
        document["data"] = data
    return _dumps(document)


def _dumps(document: dict[str, Any]) -> str:
    """Indented JSON, with the (long) `data` sketch on one line of its own."""
    data = document.pop("data", None)
    text = json.dumps(document, indent=1, allow_nan=False, sort_keys=False)
    if data is not None:
        compact = json.dumps(data, allow_nan=False, separators=(",", ":"))
        text = f'{text[:-2]},\n "data": {compact}\n}}' if len(document) else f'{{\n "data": {compact}\n}}'
    return text + "\n"


def _metric_json(metric: Metric) -> dict[str, Any]:
    item: dict[str, Any] = {
        "value": _number(metric.value),
        "source": metric.source,
        "kind": metric.kind.value,
        "raw": metric.raw,
    }
    if metric.repeats:
        item["repeats"] = [_number(value) for value in metric.repeats]
    return item


def _number(value: float | None) -> float | str | None:
    return repr(value) if value is not None and not math.isfinite(value) else value  # 'nan', 'inf', '-inf'


def _run_json(run: RunRecord) -> dict[str, Any]:
    data = asdict(run)
    data["log_tail"] = list(run.log_tail[-20:])
    return data


def load_snapshot(text: str | bytes, *, store: str) -> tuple[MetricSet, Params, BaselineRef, dict[str, Any]]:
    """Parse a snapshot; raises SnapshotError when it is not JSON, not ours, or from a newer mlgate."""
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"not a JSON snapshot ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("schema"), int):
        raise SnapshotError("not an mlgate snapshot (no schema version)")
    if document["schema"] > SCHEMA:
        raise SnapshotError(
            f"written by a newer mlgate (schema {document['schema']} > {SCHEMA}): upgrade mlgate"
        )
    try:
        metrics = MetricSet({name: _metric(name, item) for name, item in document["metrics"].items()})
        params = Params(
            {n: Param(n, str(item["value"]), str(item["source"])) for n, item in document["params"].items()}
        )
        ref = BaselineRef(
            store=store,
            sha=str(document["sha"]),
            saved_at=document.get("saved_at"),
            run_id=document.get("run_id"),
            eval_hash=document.get("eval_hash"),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise SnapshotError(f"damaged snapshot ({type(exc).__name__}: {exc})") from None
    return metrics, params, ref, document


def _metric(name: str, item: dict[str, Any]) -> Metric:
    value = item["value"]
    kind = ValueKind(item.get("kind", "number"))
    number = None if value is None else float(value)
    repeats = tuple(float(v) for v in item.get("repeats") or ())
    return Metric(name, number, str(item["source"]), kind, item.get("raw"), repeats)


def attach_predictions(text: str, path: str, blob: str) -> str:
    """The snapshot `text` with a pointer to its gzip-compressed predictions file (git blob `blob`)."""
    document = json.loads(text)
    document["predictions"] = {"path": path, "blob": blob, "encoding": "gzip"}
    return _dumps(document)


def predictions_pointer(document: dict[str, Any]) -> tuple[str, str] | None:
    """(path, blob) of the predictions a loaded snapshot points at, or None."""
    pointer = document.get("predictions")
    if not isinstance(pointer, dict):
        return None
    path, blob = pointer.get("path"), pointer.get("blob")
    if isinstance(path, str) and isinstance(blob, str) and pointer.get("encoding") == "gzip":
        return path, blob
    return None


def data_sketch(document: dict[str, Any]) -> dict[str, Any] | None:
    """The stored data sketch of a loaded snapshot (as stored: datasketch.decode_sketch reads it), or None."""
    data = document.get("data")
    return data if isinstance(data, dict) else None
