"""The files mlgate reads after a training run: what a backend that cannot share the work tree brings back.

Metrics (the `metrics:` patterns, else the DVC layout: `dvc.yaml`'s metrics, DVCLive's and `metrics.json`),
explicit `params:` patterns, the predictions file and the data of `curve` and `image` plots. Paths that would
leave the repository are left out here; the loaders name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mlgate import dvc
from mlgate.config import Config, CurvePlot, ImagePlot
from mlgate.errors import MetricsError
from mlgate.yamlfile import load_yaml


def output_paths(config: Config, root: Path) -> tuple[str, ...]:
    """The files and globs of `config` that a run writes or may write, each once, in config order."""
    paths = [*_metrics(config.metrics, root), *(config.params or ())]
    if config.predictions is not None:
        paths.append(config.predictions.path)
    paths += [plot.path for plot in config.plots if isinstance(plot, CurvePlot | ImagePlot)]
    return tuple(dict.fromkeys(path for path in paths if dvc.is_inside(path)))


def _metrics(patterns: list[str] | None, root: Path) -> list[str]:
    if patterns is not None:
        return list(patterns)
    return [*_dvc_metrics(root / dvc.DVC_YAML), dvc.DVCLIVE_METRICS, dvc.DEFAULT_METRICS]


def _dvc_metrics(path: Path) -> list[str]:
    try:
        data, _ = load_yaml(path.read_text(), dvc.DVC_YAML, MetricsError)
    except (OSError, UnicodeDecodeError, MetricsError):  # absent or broken: the metrics loader says which
        return []
    return dvc.metrics_files(data)[0] if isinstance(data, Mapping) else []
