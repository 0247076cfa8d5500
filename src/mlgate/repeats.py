"""A metrics file's several runs (seeds): its `repeats` list or a CSV `seed` column → each metric's repeats.

A JSON, YAML or TOML metrics file may hold a top-level `repeats` list, one mapping per run, flattened like
the file itself: `{"eval": {"accuracy": 0.82}, "repeats": [{"eval": {"accuracy": 0.81}}, …]}`. A CSV or
TSV whose header has a `seed` column holds one run per data row (the `seed` column is not a metric). A
metric's value is the file's own value, or the mean of its repeats when the file has none; with at least two
numeric repeats, `Metric.repeats` carries them, and the noise model compares head's and base's seeds with
a Welch interval (noise.py). The runs themselves are not metrics. A repeat that is not a mapping is an error;
a repeat value that is not a number, a metric missing from some runs, or fewer than two runs is a warning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from mlgate.errors import MetricsError
from mlgate.model import Metric, ValueKind

REPEATS_KEY = "repeats"
SEED_COLUMN = "seed"
Run = tuple[str, dict[str, Any]]  # where the run is ("m.json: repeats[1]." or "m.csv:3: "), name → value
Leaves = Callable[[Mapping[Any, Any]], list[tuple[str, Any]]]  # a mapping's leaves by dotted name


def split_repeats(
    data: Mapping[Any, Any], path: str, leaves: Leaves
) -> tuple[Mapping[Any, Any], list[Run] | None]:
    """The document without its `repeats` list, and each run's leaves; None when it has no such list."""
    runs = data.get(REPEATS_KEY)
    if not isinstance(runs, list):
        return data, None
    found: list[Run] = []
    for i, run in enumerate(runs):
        if not isinstance(run, Mapping):
            shown = repr(run) if len(repr(run)) <= 40 else repr(run)[:39] + "…"
            raise MetricsError(
                path,
                f"{REPEATS_KEY}[{i}]: a repeat must be a mapping of metric names, got {shown}",
                hint=f'write one run per entry: {REPEATS_KEY}: [{{"accuracy": 0.81}}, {{"accuracy": 0.83}}]',
            )
        found.append((f"{path}: {REPEATS_KEY}[{i}].", dict(leaves(run))))
    return {key: value for key, value in data.items() if key != REPEATS_KEY}, found


def seed_rows(
    rows: Sequence[tuple[int, list[str]]], path: str, cell: Callable[[str], Any]
) -> list[Run] | None:
    """The runs of a CSV whose header has a `seed` column, one per data row; None for any other CSV."""
    header = rows[0][1]
    names = [name.lower() for name in header]
    if (
        SEED_COLUMN not in names
        or len(rows) < 2
        or (len(header) == 2 and not isinstance(cell(header[1]), str))
    ):
        return None
    column = names.index(SEED_COLUMN)
    runs: list[Run] = []
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            raise MetricsError(f"{path}:{line}", f"{len(cells)} cells, but the header has {len(header)}")
        pairs = [
            (name, cell(text))
            for j, (name, text) in enumerate(zip(header, cells, strict=True))
            if j != column
        ]
        runs.append((f"{path}:{line}: ", dict(pairs)))
    return runs


def with_repeats(metrics: list[Metric], runs: list[Run], path: str) -> tuple[list[Metric], list[str]]:
    """`metrics` with each one's repeats; a metric only the runs have gets their mean, after the others."""
    warnings = []
    if len(runs) < 2:
        warnings.append(
            f"{path}: {REPEATS_KEY}: {len(runs)} run{'s' * (len(runs) != 1)}; a Welch interval needs at least"
            " 2, so the repeats are not used"
        )
    by_name: dict[str, list[tuple[str, Any]]] = {}
    for where, values in runs:
        for name, value in values.items():
            by_name.setdefault(name, []).append((where, value))
    out = {metric.name: metric for metric in metrics}
    for name, found in by_name.items():
        numbers, problem = _numbers(name, found, len(runs), path)
        warnings += [problem] if problem else []
        repeats = tuple(numbers) if len(runs) >= 2 and len(numbers) >= 2 else ()
        out[name] = _repeated(out.get(name), name, numbers, repeats, path)
    return list(out.values()), warnings


def _numbers(name: str, found: list[tuple[str, Any]], runs: int, path: str) -> tuple[list[float], str | None]:
    """One metric's values over the runs (none if one is not a number) and a warning when some are odd."""
    for where, value in found:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [], f"{where}{name}: not a number ({value!r}); the repeats of {name} are not used"
    numbers = [float(value) for _, value in found]
    if len(found) < runs:
        return numbers, f"{path}: {name}: in {len(found)} of {runs} runs only; the mean is of those"
    return numbers, None


def _repeated(
    own: Metric | None, name: str, numbers: list[float], repeats: tuple[float, ...], path: str
) -> Metric:
    if own is not None:
        return replace(own, repeats=repeats) if own.kind is ValueKind.NUMBER else own
    if not numbers:
        return Metric(name, None, path, ValueKind.TEXT, "repeats that are not numbers")
    return Metric(name, math.fsum(numbers) / len(numbers), path, repeats=repeats)
