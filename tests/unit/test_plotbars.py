"""The metric bar chart, checked through its PNG: size, determinism, and nothing clipped at the edges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlgate import plotbars
from tests.unit.test_plots import HOSTILE, ink, png_size


def test_plot_bars_renders_when_metric_names_are_hostile(tmp_path: Path) -> None:
    rows = [(name, 0.5 + i, 0.6 + i) for i, name in enumerate(HOSTILE)]
    image = plotbars.plot_bars(rows, tmp_path, title="$\\frac{$ gates_")
    width, height = png_size(image.path)
    assert width == 640
    assert height >= 360


def test_plot_bars_renders_when_values_are_missing_negative_or_infinite(tmp_path: Path) -> None:
    rows = [
        ("a", None, 1.0),
        ("b", -2.0, 3.0),
        ("c", float("nan"), float("inf")),
        ("d", 0.0, 0.0),
        ("e", None, None),
    ]
    image = plotbars.plot_bars(rows, tmp_path)
    assert png_size(image.path) == (640, 360)


def test_plot_bars_renders_an_empty_chart_when_no_metric_is_gated(tmp_path: Path) -> None:
    assert png_size(plotbars.plot_bars([], tmp_path).path) == (640, 360)


def test_plot_bars_shows_at_most_twenty_rows_when_given_more(tmp_path: Path) -> None:
    rows = [(f"metric{i}", float(i), float(i + 1)) for i in range(25)]
    image = plotbars.plot_bars(rows, tmp_path)
    assert image.alt.endswith("metric19 (first 20 of 25)")
    assert "metric20" not in image.alt


def test_plot_bars_leaves_the_figure_edges_blank_when_names_values_and_title_are_long(tmp_path: Path) -> None:
    rows = [("W" * 40, 1234567.0, -7654321.0), ("gain", -1.0, 2.0), ("loss", -1e14, None)]
    drawn = ink(plotbars.plot_bars(rows, tmp_path, title="M" * 80).path)
    assert drawn.any()
    assert not drawn[:2].any()
    assert not drawn[-2:].any()
    assert not drawn[:, :2].any()
    assert not drawn[:, -2:].any()


@pytest.mark.parametrize("name", ["a", "eval.validation.top5_accuracy_macro"])
def test_plot_bars_starts_the_names_near_the_left_edge_when_names_are_short_or_long(
    tmp_path: Path, name: str
) -> None:
    drawn = ink(plotbars.plot_bars([(name, 0.8, 0.9), ("b", 0.1, 0.2)], tmp_path).path)
    assert 2 <= np.flatnonzero(drawn.any(axis=0))[0] <= 8


def test_plot_bars_is_byte_identical_when_rendered_twice(tmp_path: Path) -> None:
    rows = [("eval.accuracy", 0.91, 0.93), ("latency_ms", 120.0, 101.0)]
    assert (
        plotbars.plot_bars(rows, tmp_path / "a").path.read_bytes()
        == plotbars.plot_bars(rows, tmp_path / "b").path.read_bytes()
    )
