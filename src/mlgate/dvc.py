"""Where a DVC project keeps its metrics and params files: `dvc.yaml` entries and DVCLive's defaults.

Pure: takes the parsed `dvc.yaml` and returns repository-relative paths, plus warnings for entries that
cannot be used (templated `${...}` paths, paths outside the repository). metrics.py reads the files.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

DVC_YAML = "dvc.yaml"
DVCLIVE_METRICS = "dvclive/metrics.json"
DVCLIVE_CURVES = "dvclive/plots/metrics/**/*.tsv"  # one TSV per logged metric: timestamp, step, <metric>
DEFAULT_METRICS = "metrics.json"
DEFAULT_PARAMS = "params.yaml"

Entry = tuple[str, Any]  # (the stage's wdir, one `metrics:` / `params:` list item)


def is_inside(path: str) -> bool:
    """True for a relative POSIX path with no way out of the repository: no `/abs`, `C:` or `..` at all."""
    pure = PurePosixPath(path.replace("\\", "/"))
    drive = len(path) > 1 and path[1] == ":"
    return bool(path) and not pure.is_absolute() and not drive and ".." not in pure.parts


def dvclive_curve(path: str) -> tuple[str, str]:
    """The (x, y) columns of one DVCLive history TSV: `step`, and the metric named after the file."""
    return "step", PurePosixPath(path).stem


def metrics_files(doc: Mapping[str, Any] | None) -> tuple[list[str], list[str]]:
    """The metrics files `doc` lists: the top-level `metrics:` first, then each stage's, in file order."""
    if doc is None:
        return [], []
    entries: list[Entry] = [(".", item) for item in _as_list(doc.get("metrics"))]
    for wdir, stage in _stages(doc):
        entries += [(wdir, item) for item in _as_list(stage.get("metrics"))]
    return _resolve(entries, "metrics")


def params_files(doc: Mapping[str, Any] | None) -> tuple[list[str], list[str]]:
    """The params files `doc` uses: top-level `params:` files, then each stage's.

    In a stage, a plain string names a key of the stage's `params.yaml`; a single-key mapping
    (`- custom.yaml: [lr]`) names another file.
    """
    if doc is None:
        return [], []
    entries: list[Entry] = [(".", item) for item in _as_list(doc.get("params"))]
    for wdir, stage in _stages(doc):
        entries += [
            (wdir, i if isinstance(i, Mapping) else DEFAULT_PARAMS) for i in _as_list(stage.get("params"))
        ]
    return _resolve(entries, "params")


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _stages(doc: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    stages = doc.get("stages")
    if not isinstance(stages, Mapping):
        return
    for stage in stages.values():
        if not isinstance(stage, Mapping):
            continue
        body = stage["do"] if isinstance(stage.get("do"), Mapping) else stage  # foreach / matrix stages
        wdir = body.get("wdir", stage.get("wdir", "."))
        yield (wdir if isinstance(wdir, str) else "."), body


def _entry_path(item: Any) -> str | None:
    """`- metrics.json` or `- metrics.json: {cache: false}` → `metrics.json`."""
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping) and len(item) == 1:
        key = next(iter(item))
        return key if isinstance(key, str) else None
    return None


def _resolve(entries: list[Entry], section: str) -> tuple[list[str], list[str]]:
    paths: list[str] = []
    warnings: list[str] = []
    for wdir, item in entries:
        path = _entry_path(item)
        if path is None:
            warnings.append(f"{DVC_YAML}: {section}: entry {item!r} is not a path; skipped")
        elif "${" in path or "${" in wdir:
            warnings.append(f"{DVC_YAML}: {section}: templated path {path!r} is not expanded; skipped")
        elif not is_inside(full := posixpath.normpath(posixpath.join(wdir, path))):
            warnings.append(f"{DVC_YAML}: {section}: {path!r} is outside the repository; skipped")
        elif full not in paths:
            paths.append(full)
    return paths, warnings
