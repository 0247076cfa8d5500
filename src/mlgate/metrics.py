"""Metrics and params files → MetricSet and Params; the strict reading every loaded file goes through.

Files are read through a FileTree (the work tree or a commit), size-checked before they are read, and parsed
strictly: JSON, YAML, TOML, CSV and TSV. Nested keys flatten to DVC's dotted names (`eval.acc`, `lr.0`); a
file's several runs (a `repeats` list, a CSV `seed` column) become each metric's repeats (repeats.py).
Bad input raises MetricsError naming the file and the key or line; a value that is not a number is kept as a
TEXT metric with a warning: shown in the report, never gated. Row files (predictions, histories):
predictions.py.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mlgate import dvc, repeats
from mlgate.documents import MAX_DEPTH, parse_document
from mlgate.errors import MetricsError
from mlgate.model import Metric, MetricSet, Param, Params, ValueKind
from mlgate.repeats import Run
from mlgate.tree import FileTree
from mlgate.yamlfile import load_yaml

if TYPE_CHECKING:
    from mlgate.config import PredictionsConfig
    from mlgate.model import Predictions

MAX_METRICS_BYTES = 16 * 2**20

Key = tuple[str | int, ...]
Lines = Mapping[Any, int]
_NAME_VALUE_HEADERS = {("name", "value"), ("metric", "value"), ("key", "value")}


def load_metrics(tree: FileTree, patterns: Sequence[str] | None) -> MetricSet:
    """The metrics of the files `patterns` matches (None: the DVC layout), merged in order; later wins."""
    paths, warnings = _discover_metrics(tree) if patterns is None else (expand(tree, patterns), [])
    merged: dict[str, Metric] = {}
    for path in paths:
        metrics, file_warnings = load_metrics_file(tree, path)
        warnings += file_warnings
        for metric in metrics:
            previous = merged.get(metric.name)
            if previous is not None:
                before = "earlier in this file" if previous.source == path else f"in {previous.source}"
                warnings.append(
                    f"{path}: {metric.name}: defined again; this value wins over the one {before}"
                )
            merged[metric.name] = metric
    return MetricSet(metrics=merged, sources=tuple(paths), warnings=tuple(warnings))


def paths_to_read(metrics: Sequence[str] | None, params: Sequence[str] | None) -> list[str]:
    """The paths `load_metrics` and `load_params` look at first for these patterns (None: those the DVC
    layout is found from), for a GitTree to preload."""
    found = [dvc.DVC_YAML, dvc.DVCLIVE_METRICS, dvc.DEFAULT_METRICS] if metrics is None else [*metrics]
    return [*found, *([dvc.DVC_YAML, dvc.DEFAULT_PARAMS] if params is None else params)]


def load_metrics_file(tree: FileTree, path: str) -> tuple[list[Metric], list[str]]:
    """The metrics of one file, in file order, and a warning for each value that is not a number."""
    text = load_text(tree, path)
    warnings: list[str] = []
    leaves, lines, runs = _leaves(text, path, warnings)
    metrics: list[Metric] = []
    for key, value in leaves:
        metric = to_metric(_dotted(key), value, path)
        metrics.append(metric)
        if metric.kind is ValueKind.TEXT:
            line = lines.get(key)
            where = f"{path}:{line}" if line else path
            warnings.append(f"{where}: {metric.name}: not a number ({metric.raw!r}); shown, not compared")
    if runs is None:
        return metrics, warnings
    metrics, more = repeats.with_repeats(metrics, runs, path)
    return metrics, warnings + more


def _leaves(
    text: str, path: str, warnings: list[str]
) -> tuple[list[tuple[Key, Any]], Lines, list[Run] | None]:
    """The file's own leaves with their lines, and its runs (seeds) when it has several (repeats.py)."""
    if path.lower().endswith((".csv", ".tsv")):
        rows = csv_rows(text, path)
        runs = repeats.seed_rows(rows, path, _cell)
        return ([], {}, runs) if runs is not None else (*_csv_leaves(rows, path, warnings), None)
    data, lines = parse_document(text, path)
    _require_mapping(data, path, "metric names")
    data, runs = repeats.split_repeats(
        data, path, lambda run: [(_dotted(k), v) for k, v in flatten(run, where=path)]
    )
    return flatten(data, where=path), lines, runs


def load_params(tree: FileTree, patterns: Sequence[str] | None) -> Params:
    """Every param of the files `patterns` matches (None: `params.yaml` and `dvc.yaml`), as display text."""
    paths = _discover_params(tree) if patterns is None else expand(tree, patterns)
    merged: dict[str, Param] = {}
    for path in paths:
        if path.lower().endswith((".csv", ".tsv")):
            raise MetricsError(path, "params files are YAML, JSON or TOML, not CSV")
        data, _ = parse_document(load_text(tree, path), path)
        if data is None:
            continue
        _require_mapping(data, path, "param names")
        for key, value in flatten(data, where=path, expand_lists=False):
            merged[_dotted(key)] = Param(name=_dotted(key), value=render(value), source=path)
    return Params(params=merged, sources=tuple(paths))


def expand(tree: FileTree, patterns: Sequence[str]) -> list[str]:
    """The files the patterns match, in pattern order, each once; a pattern matching nothing is an error."""
    if isinstance(patterns, str):
        patterns = [patterns]
    paths: list[str] = []
    for pattern in patterns:
        if not dvc.is_inside(pattern):
            raise MetricsError(pattern, "must be a relative path inside the repository")
        found = tree.glob(pattern)
        if not found:
            if not any(ch in pattern for ch in "*?["):
                raise MetricsError(pattern, f"no such file ({tree.label})")
            raise MetricsError(pattern, f"the pattern matched no files ({tree.label})")
        paths += [path for path in found if path not in paths]
    return paths


def load_bytes(tree: FileTree, path: str, limit: int) -> bytes:
    """The file's bytes, refused before reading when absent, over `limit` bytes, or empty."""
    if not dvc.is_inside(path):
        raise MetricsError(path, "must be a relative path inside the repository")
    if not tree.exists(path):
        raise MetricsError(path, f"no such file ({tree.label})")
    size = tree.size(path)
    if size > limit:
        raise MetricsError(
            path,
            f"{_mib(size)} is over the {_mib(limit)} limit for this file",
            hint="is this the right file?",
        )
    data = tree.read_bytes(path)
    if not data or data.isspace():  # isspace(): no copy of a large file
        raise MetricsError(path, "empty file")
    return data


def load_text(tree: FileTree, path: str, *, limit: int = MAX_METRICS_BYTES) -> str:
    """The file as text: UTF-8 (a BOM is dropped); binary, non-UTF-8 or empty files are errors."""
    return decode_text(load_bytes(tree, path, limit), path)


def decode_text(data: bytes, path: str) -> str:
    """`data` as UTF-8 text (a BOM is dropped); NUL bytes, bad UTF-8 or only whitespace are errors."""
    if b"\0" in data:
        raise MetricsError(path, "binary file (NUL bytes), not text", hint="save it as UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetricsError(path, f"not UTF-8 text (byte {exc.start})", hint="save it as UTF-8") from None
    if not text or text.isspace():
        raise MetricsError(path, "empty file")
    return text


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size % 2**20 else f"{size // 2**20} MiB"


def _discover_metrics(tree: FileTree) -> tuple[list[str], list[str]]:
    listed, warnings = dvc.metrics_files(_dvc_yaml(tree))
    found = [path for path in listed if tree.exists(path)]
    warnings += [
        f"{dvc.DVC_YAML} lists {path} but it is not in the {tree.label}"
        for path in listed
        if path not in found
    ]
    if dvc.DVCLIVE_METRICS not in found and tree.exists(dvc.DVCLIVE_METRICS):
        found.append(dvc.DVCLIVE_METRICS)
    if not found and tree.exists(dvc.DEFAULT_METRICS):
        found.append(dvc.DEFAULT_METRICS)
    if not found:
        warnings.append(
            f"no metrics files found in the {tree.label} (looked for {dvc.DVC_YAML} `metrics:`, "
            f"{dvc.DVCLIVE_METRICS}, {dvc.DEFAULT_METRICS}); set `metrics:` in .mlgate.yml"
        )
    return found, warnings


def _discover_params(tree: FileTree) -> list[str]:
    listed, _ = dvc.params_files(_dvc_yaml(tree))
    candidates = [dvc.DEFAULT_PARAMS, *(path for path in listed if path != dvc.DEFAULT_PARAMS)]
    return [path for path in candidates if tree.exists(path)]


def _dvc_yaml(tree: FileTree) -> Mapping[str, Any] | None:
    if not tree.exists(dvc.DVC_YAML):
        return None
    data, _ = load_yaml(load_text(tree, dvc.DVC_YAML), dvc.DVC_YAML, MetricsError)
    if data is None:
        return None
    _require_mapping(data, dvc.DVC_YAML, "sections")
    assert isinstance(data, Mapping)
    return data


def _require_mapping(data: Any, path: str, of: str) -> None:
    if data is None:
        raise MetricsError(path, f"no data: the document is empty; expected a mapping of {of}")
    if not isinstance(data, Mapping):
        raise MetricsError(path, f"top level must be a mapping of {of}, got {_kind(data)}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__


def flatten(data: Mapping[Any, Any], *, where: str = "", expand_lists: bool = True) -> list[tuple[Key, Any]]:
    """The leaves of nested mappings (and lists, as `name.0`, when `expand_lists`) with their key paths.

    Iterative, in file order; deeper than MAX_DEPTH levels is an error. A list of strings stays one leaf.
    """
    leaves: list[tuple[Key, Any]] = []
    stack: list[tuple[Key, Iterator[tuple[Any, Any]]]] = [((), iter(data.items()))]
    while stack:
        prefix, items = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
            continue
        key: Key = (*prefix, item[0] if isinstance(item[0], str | int) else render(item[0]))
        children = _children(item[1], expand_lists)
        if children is None:
            leaves.append((key, item[1]))
        elif len(stack) >= MAX_DEPTH:
            shown = _dotted(key[:3]) + ".…"
            raise MetricsError(where, f"{shown}: nested more than {MAX_DEPTH} levels deep")
        else:
            stack.append((key, children))
    return leaves


def _children(value: Any, expand_lists: bool) -> Iterator[tuple[Any, Any]] | None:
    if isinstance(value, Mapping):
        return iter(value.items())
    if isinstance(value, list) and expand_lists and value and not all(isinstance(v, str) for v in value):
        return enumerate(value)
    return None


def _dotted(key: Key) -> str:
    return ".".join(str(part) for part in key)


def to_metric(name: str, value: Any, source: str) -> Metric:
    """A number (or boolean, as 1/0) as is; anything else as TEXT with its text in `raw`."""
    if isinstance(value, bool):
        return Metric(name, 1.0 if value else 0.0, source, ValueKind.BOOL, render(value))
    if isinstance(value, int | float):
        try:
            return Metric(name, float(value), source)
        except OverflowError:
            pass
    return Metric(name, None, source, ValueKind.TEXT, render(value))


def render(value: Any) -> str:
    """A value as a person reads it in a diff: `0.1`, `true`, `null`, `[1, 2]`, strings as they are."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json.dumps(v) if isinstance(v, str) else render(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{render(k)}: {render(v)}" for k, v in value.items()) + "}"
    return str(value)


def _csv_leaves(
    rows: list[tuple[int, list[str]]], path: str, warnings: list[str]
) -> tuple[list[tuple[Key, Any]], Lines]:
    """Leaves of a metrics CSV/TSV: a header and a data row (the last, for a history), or name,value rows."""
    header = [cell.lower() for cell in rows[0][1]]
    if len(header) == 2 and not isinstance(_cell(rows[0][1][1]), str):
        return _name_value_leaves(rows, path)
    if len(rows) == 1:
        raise MetricsError(f"{path}:{rows[0][0]}", "a header row but no data row")
    if tuple(header) in _NAME_VALUE_HEADERS:
        return _name_value_leaves(rows[1:], path)
    if len(rows) > 2:
        warnings.append(f"{path}: {len(rows) - 1} data rows (a history); the last row is used")
    line, cells = rows[-1]
    if len(cells) != len(rows[0][1]):
        raise MetricsError(f"{path}:{line}", f"{len(cells)} cells, but the header has {len(rows[0][1])}")
    leaves: list[tuple[Key, Any]] = [
        ((name,), _cell(cell)) for name, cell in zip(rows[0][1], cells, strict=True)
    ]
    return leaves, {key: line for key, _ in leaves}


def _name_value_leaves(rows: list[tuple[int, list[str]]], path: str) -> tuple[list[tuple[Key, Any]], Lines]:
    leaves: list[tuple[Key, Any]] = []
    lines: dict[Key, int] = {}
    for line, cells in rows:
        if len(cells) != 2 or not cells[0]:
            raise MetricsError(f"{path}:{line}", f"expected two cells, name and value; got {len(cells)}")
        leaves.append(((cells[0],), _cell(cells[1])))
        lines[(cells[0],)] = line
    return leaves, lines


def csv_rows(text: str, path: str) -> list[tuple[int, list[str]]]:
    """Non-blank rows of a CSV (a TSV by extension or when line 1 has a tab) with their line numbers."""
    first = text.split("\n", 1)[0]
    delimiter = "\t" if path.lower().endswith(".tsv") or "\t" in first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            stripped = [cell.strip() for cell in cells]
            if any(stripped):
                rows.append((reader.line_num, stripped))
    except csv.Error as exc:
        raise MetricsError(f"{path}:{reader.line_num}", f"invalid CSV: {exc}") from None
    if not rows:
        raise MetricsError(path, "no rows: every cell is empty")
    return rows


def _cell(text: str) -> bool | float | str:
    """A CSV cell: `true`/`false` → bool, a number (also `nan`, `inf`) → float, anything else stays text."""
    lower = text.lower()
    if lower in ("true", "false"):
        return lower == "true"
    try:
        return float(text)
    except ValueError:
        return text


def load_history(tree: FileTree, path: str) -> dict[str, list[float]]:
    """A history's columns, name → values; predictions.py owns the format (see `load_history` there)."""
    from mlgate import predictions

    return predictions.load_history(tree, path)


def load_predictions(tree: FileTree, cfg: PredictionsConfig) -> Predictions:
    """Per-example results; predictions.py owns the format and is the only one to import numpy."""
    from mlgate import predictions

    return predictions.load_predictions(tree, cfg)
