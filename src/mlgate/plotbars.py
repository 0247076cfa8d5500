"""The gated metrics' bar chart: base (grey) and head (blue) per metric, as a PNG laid out by hand.

No layout engine (constrained layout makes savefig draw the figure twice and measure it in between): the
margins come from the names, title, x label, legend and value labels as the Agg renderer measures them, so
nothing is clipped at the figure's edge and short names leave no blank margin. matplotlib is imported
inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeGuard

from mlgate.model import PlotImage, format_number
from mlgate.plotcanvas import BASE, EDGE_PX, HEAD, HEIGHT_IN, plain, renderer, save_png

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    Bar = tuple[str, float | None, float | None]  # a gated metric: name, base value, head value

MAX_BARS = 20
_XLABEL = "each metric scaled to the larger of base and head"
_GAP_PX = 4.0  # bar end to its value label


def plot_bars(rows: Sequence[Bar], out_dir: Path, title: str = "Gated metrics: base vs head") -> PlotImage:
    """Base (grey) and head (blue) bars per metric, each row scaled to its larger value, values written on.

    At most MAX_BARS rows, the title then saying "(first N of M)"; names are cut to 32 characters.
    """
    shown = list(rows[:MAX_BARS])
    more = f" (first {MAX_BARS} of {len(rows)})" if len(rows) > MAX_BARS else ""
    heading, sides = plain(title, 70 - len(more)) + more, _sides(shown)

    def draw(fig: Figure) -> None:
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set(xticks=[], yticks=[], ylim=(max(len(shown), 1) - 0.5, -0.5), xlabel=_XLABEL)
        ax.set_title(heading, y=1.0)  # a given y: placed by _place_bars, not moved by Axes.draw
        ax.grid(False)
        names = _draw_names(ax, [plain(name, 32) for name, _, _ in shown])
        values = [_draw_side(ax, side) for side in sides]
        legend = fig.legend(loc="lower center", ncols=2) if shown else None
        _place_bars(fig, ax, names, legend, list(zip(sides, values, strict=True)))

    height = max(HEIGHT_IN, 0.32 * len(shown) + 1.2)
    alt = f"{title}: {', '.join(name for name, _, _ in shown)}{more}"
    return PlotImage(title, save_png(title, out_dir, draw, height), alt)


class _Side(NamedTuple):
    """Head's or base's bars: lengths scaled per row (head and base share a row's scale), values as text."""

    label: str
    colour: str
    offset: float
    lengths: list[float]
    texts: list[str]


def _sides(rows: Sequence[Bar]) -> tuple[_Side, _Side]:
    """Head and base of `rows`; a missing or non-finite value draws no bar, and None or NaN reads "—"."""
    scales = [max((abs(v) for v in (b, h) if _finite(v)), default=0.0) or 1.0 for _, b, h in rows]

    def side(values: list[float | None], label: str, colour: str, offset: float) -> _Side:
        lengths = [v / scale if _finite(v) else 0.0 for v, scale in zip(values, scales, strict=True)]
        texts = ["—" if v is None or math.isnan(v) else format_number(v) for v in values]
        return _Side(label, colour, offset, lengths, texts)

    return side([h for _, _, h in rows], "head", HEAD, -0.2), side([b for _, b, _ in rows], "base", BASE, 0.2)


def _finite(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def _draw_names(ax: Axes, names: list[str]) -> list[Text]:
    """Each row's name and tick mark, drawn as y tick labels look (moved left of the axes by _place_bars).

    NOTE: not Axis ticks: each Tick is five artists built by copying properties (about 1 ms a row on a slow
    core, on top of the name's text); one marker line and one Text per name draw the same picture.
    """
    import matplotlib
    from matplotlib.markers import TICKLEFT

    rc, at = matplotlib.rcParams, ax.get_yaxis_transform()  # x: axes fraction, y: row
    tick = {"markersize": rc["ytick.major.size"], "markeredgewidth": rc["ytick.major.width"]}
    marks = {"linestyle": "none", "color": rc["ytick.color"], "transform": at, "clip_on": False} | tick
    ax.plot([0.0] * len(names), range(len(names)), marker=TICKLEFT, **marks)
    size = rc["ytick.labelsize"]
    return [
        ax.text(0.0, y, n, ha="right", va="center_baseline", size=size, transform=at)
        for y, n in enumerate(names)
    ]


def _draw_side(ax: Axes, side: _Side) -> list[Text]:
    """One side's bars as one collection, and their value labels (moved to the bar ends by _place_bars)."""
    from matplotlib.collections import PolyCollection

    ys = [row + side.offset for row in range(len(side.lengths))]
    # NOTE: one PolyCollection draws in one call what barh draws as a Rectangle per bar, each added,
    # autoscaled and drawn on its own (about 1 ms a bar here); the legend shows it as the same patch.
    boxes = [
        [(0.0, y - 0.19), (0.0, y + 0.19), (n, y + 0.19), (n, y - 0.19)]
        for y, n in zip(ys, side.lengths, strict=True)
    ]
    if boxes:
        bars = PolyCollection(boxes, facecolors=side.colour, edgecolors="none", label=side.label)
        ax.add_collection(bars, autolim=False)
    return [
        ax.text(length, y, text, va="center", ha="right" if length < 0 else "left", fontsize=7)
        for y, length, text in zip(ys, side.lengths, side.texts, strict=True)
    ]


def _place_bars(
    fig: Figure, ax: Axes, names: list[Text], legend: Legend | None, sides: list[tuple[_Side, list[Text]]]
) -> None:
    """Put the axes where the measured names (left), title (top), x label and legend (bottom) just fit."""
    import matplotlib

    rc, draws, pt = matplotlib.rcParams, renderer(fig), fig.dpi / 72
    tick = (rc["ytick.major.size"] + rc["ytick.major.pad"]) * pt
    left = EDGE_PX + max((name.get_window_extent(draws).width for name in names), default=0.0) + tick
    _fit_width(ax.title, fig.bbox.width - 2 * EDGE_PX, draws)
    top = EDGE_PX + ax.title.get_window_extent(draws).height + rc["axes.titlepad"] * pt
    floor = legend.get_window_extent(draws).y1 if legend is not None else 0.0
    labelpad = rc["axes.labelpad"] * pt
    bottom = floor + EDGE_PX + ax.xaxis.label.get_window_extent(draws).height + labelpad
    width, height = fig.bbox.width, fig.bbox.height
    box = (left, bottom, width - left - EDGE_PX, height - bottom - top)
    ax.set_position((box[0] / width, box[1] / height, box[2] / width, box[3] / height))
    for name in names:
        name.set_x(-tick / box[2])
    ax.title.set_x(_centred(ax.title, box, width, draws))
    ax.xaxis.set_label_coords(_centred(ax.xaxis.label, box, width, draws), -labelpad / box[3])
    _place_values(ax, box[2], sides, draws)


def _place_values(ax: Axes, span: float, sides: list[tuple[_Side, list[Text]]], draws: RendererAgg) -> None:
    """x limits that leave room in axes `span` px wide for the widest value label on each side of the bars."""
    ends = [
        (text.get_window_extent(draws).width, length)
        for side, texts in sides
        for text, length in zip(texts, side.lengths, strict=True)
    ]
    right = max((w for w, length in ends if length >= 0), default=0.0) + _GAP_PX
    left = max((w + 2 * _GAP_PX for w, length in ends if length < 0), default=0.0)  # clear of the spine too
    low = -1.0 if left else 0.0
    scale = max((span - left - right) / (1.0 - low), 1.0)  # px per unit of bar length
    ax.set_xlim(low - left / scale, 1.0 + right / scale)
    for side, texts in sides:
        for text, length in zip(texts, side.lengths, strict=True):
            text.set_x(length + (-_GAP_PX if length < 0 else _GAP_PX) / scale)


def _fit_width(text: Text, width: float, draws: RendererAgg) -> None:
    """Shrink `text`'s font just enough that it is at most `width` px wide (a title of 70 wide letters)."""
    wide = text.get_window_extent(draws).width
    if wide > width:
        text.set_fontsize(text.get_fontproperties().get_size_in_points() * width / wide * 0.98)


def _centred(text: Text, box: tuple[float, float, float, float], width: float, draws: RendererAgg) -> float:
    """x, as a fraction of the axes `box` (px), that centres `text` over it, moved to stay in the figure."""
    half = text.get_window_extent(draws).width / 2
    centre = max(EDGE_PX + half, min(box[0] + box[2] / 2, width - EDGE_PX - half))
    return (centre - box[0]) / box[2]
