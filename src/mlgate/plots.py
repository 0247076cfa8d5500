"""The report's pictures: training curves, confusion matrices, ROC/PR curves and metric bars as PNG files.

Each `plot_*` says what to draw on a fresh Figure; plotcanvas.py draws it under the house style into a
deterministic PNG, and makes every string that reaches a figure (titles, metric and class names) plain
text. User images (`kind: image`) are collected here too. matplotlib and numpy are imported inside the
functions that need them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

from mlgate.errors import ConfigError, MetricsError
from mlgate.model import PlotImage, Predictions, format_number
from mlgate.plotcanvas import (
    DPI,
    FONT,
    HEIGHT_IN,
    WIDTH_IN,
    font_glyphs,
    plain,
    png_name,
    renderer,
    save_png,
)
from mlgate.plotdata import (
    area_under,
    average_precision,
    class_codes,
    compute_confusion,
    compute_pr,
    compute_roc,
    decimate_minmax,
)

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    Array = np.ndarray[Any, Any]
    Curve = tuple[Array, Array]
    Table = Mapping[str, Sequence[float] | Array]  # a history: column name → values (list or numpy array)
    Bar = tuple[str, float | None, float | None]  # a gated metric: name, base value, head value

BUCKETS = int(WIDTH_IN * DPI)  # one min/max bucket per pixel column of the figure
# Okabe & Ito's palette, told apart with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
HEAD, BASE = PALETTE[0], "#7A7A7A"
ANNOTATE_CLASSES, MAX_BARS = 10, 20
MAX_IMAGES, MAX_IMAGE_BYTES = 20, 5 * 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_BASE_LINE: dict[str, Any] = {"linestyle": "--", "linewidth": 1.3, "alpha": 0.8}
_BARS_XLABEL = "each metric scaled to the larger of base and head"
_EDGE_PX, _GAP_PX = 4.0, 4.0  # bar chart: figure edge to any text; bar end to its value label


def plot_curve(
    title: str,
    head: Table,
    base: Table | None,
    x: str | None,
    ys: Sequence[str],
    out_dir: Path,
    *,
    source: str = "",
) -> PlotImage:
    """Training curves of columns `ys` (every column but `x` when empty) against column `x` or the row index.

    Head is solid, base dashed in the same colour; a column the base lacks is drawn for head only. Errors
    name `source` (the history file) or else the title.
    """
    where = source or title
    names = list(ys) or [name for name in head if name != x]
    if not names:
        raise MetricsError(where, "no column to plot", hint="list the columns under `y:`")
    lines = [(name, _curve_xy(head, x, name, where), _base_xy(base, x, name, where)) for name in names]
    side, note = (" (head)", "; head solid, base dashed") if base is not None else ("", "")

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        for colour, (name, head_xy, base_xy) in zip(itertools.cycle(PALETTE), lines, strict=False):
            ax.plot(*head_xy, color=colour, linewidth=1.6, label=plain(name + side, 40))
            if base_xy is not None:
                ax.plot(*base_xy, color=colour, label=plain(f"{name} (base)", 40), **_BASE_LINE)
        ax.set(xlabel=plain(x or "row", 40), title=plain(title))
        ax.legend(loc="best")

    alt = f"{title}: {', '.join(names)} against {x or 'row'}{note}"
    return PlotImage(title, save_png(title, out_dir, draw, fixed=True), alt)


def _curve_xy(table: Table, x: str | None, name: str, where: str) -> Curve:
    import numpy as np

    ys = _column(table, name, where)
    xs = np.arange(ys.size, dtype=np.float64) if x is None else _column(table, x, where)
    if xs.shape != ys.shape:
        raise MetricsError(where, f"column {x!r} has {xs.size} values but {name!r} has {ys.size}")
    return decimate_minmax(xs, ys, BUCKETS)


def _base_xy(base: Table | None, x: str | None, name: str, where: str) -> Curve | None:
    if base is None or name not in base or (x is not None and x not in base):
        return None
    return _curve_xy(base, x, name, f"{where} (base)")


def _column(table: Table, name: str, where: str) -> Array:
    import numpy as np

    if name not in table:
        raise MetricsError(where, f"no column {name!r}; columns: {', '.join(map(repr, table)) or 'none'}")
    try:
        values = np.asarray(table[name], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricsError(where, f"column {name!r} is not numeric") from exc
    if values.ndim != 1:
        raise MetricsError(where, f"column {name!r} is not a flat list of numbers")
    return values


def plot_confusion(
    preds: Predictions, out_dir: Path, base: Predictions | None = None, *, title: str = "Confusion matrix"
) -> PlotImage:
    """Counts in each cell, shaded by the share of its true class (row-normalised); base left of head."""
    panels = [("base", base), ("head", preds)] if base is not None else [("", preds)]
    matrices = [(label, compute_confusion(p), p) for label, p in panels if p is not None]

    def draw(fig: Figure) -> None:
        axes = fig.subplots(1, len(matrices), squeeze=False)[0]
        for ax, (label, counts, p) in zip(axes, matrices, strict=True):
            image = _draw_confusion(ax, counts, _class_names(p, counts.shape[0]))
            ax.set_title(label)
        fig.colorbar(image, ax=list(axes), shrink=0.85, label="share of the true class")
        fig.suptitle(plain(title))

    alt = f"{title} of {preds.source}" + (f" beside the base's ({base.source})" if base is not None else "")
    return PlotImage(title, save_png(title, out_dir, draw), alt)


def _class_names(preds: Predictions, k: int) -> list[str]:
    labels = list(preds.labels[:k]) + [str(i) for i in range(len(preds.labels), k)]
    return [plain(label, 14) for label in labels]


def _draw_confusion(ax: Axes, counts: Array, names: list[str]) -> Any:
    import numpy as np

    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    k = counts.shape[0]
    for (row, col), count in np.ndenumerate(counts) if k <= ANNOTATE_CLASSES else ():
        colour = "white" if shares[row, col] > 0.5 else "black"
        ax.text(col, row, str(count), ha="center", va="center", color=colour, fontsize=8)
    ax.set_xticks(range(k), names, rotation=45 if k > 3 else 0, ha="right" if k > 3 else "center")
    ax.set_yticks(range(k), names)
    ax.set(xlabel="predicted", ylabel="true")
    ax.grid(False)
    return image


def _binary(preds: Predictions) -> tuple[Array, Array]:
    """y_true (0/1) and score of a binary classification, or a MetricsError saying what is missing."""
    import numpy as np

    where, need = preds.source, "ROC and PR curves need"
    if preds.task != "classification":
        raise MetricsError(where, f"{need} a binary classification, not a {preds.task} task")
    y_true = class_codes(preds.y_true, "y_true", where)
    classes = max(len(preds.labels), int(y_true.max(initial=1)) + 1)
    if classes > 2:
        raise MetricsError(where, f"{need} a binary classification, got {classes} classes")
    if preds.score is None:
        raise MetricsError(where, "no score column", hint="set predictions.columns.score in .mlgate.yml")
    score = np.asarray(preds.score, dtype=np.float64)
    if score.shape != y_true.shape or not np.isfinite(score).all():
        raise MetricsError(where, "score must hold one finite number per example")
    if np.unique(y_true).size < 2:
        raise MetricsError(where, f"{need} examples of both classes in y_true")
    return y_true, score


def plot_roc(
    preds: Predictions, out_dir: Path, base: Predictions | None = None, *, title: str = "ROC curve"
) -> PlotImage:
    """ROC curve of head (solid) and base (grey, dashed) with their AUC in the legend."""

    def curve(p: Predictions) -> tuple[Array, Array, str]:
        fpr, tpr, _ = compute_roc(*_binary(p))
        return *decimate_minmax(fpr, tpr, BUCKETS), f"AUC {area_under(fpr, tpr):.4f}"

    return _plot_rates(title, out_dir, (curve(preds), curve(base) if base is not None else None), roc=True)


def plot_pr(
    preds: Predictions, out_dir: Path, base: Predictions | None = None, *, title: str = "Precision-recall"
) -> PlotImage:
    """Precision-recall curve of head (solid) and base (grey, dashed) with their average precision."""

    def curve(p: Predictions) -> tuple[Array, Array, str]:
        precision, recall, _ = compute_pr(*_binary(p))
        text = f"AP {average_precision(precision, recall):.4f}"
        return *decimate_minmax(recall[::-1], precision[::-1], BUCKETS), text

    return _plot_rates(title, out_dir, (curve(preds), curve(base) if base is not None else None), roc=False)


def _plot_rates(
    title: str,
    out_dir: Path,
    lines: tuple[tuple[Array, Array, str], tuple[Array, Array, str] | None],
    roc: bool,
) -> PlotImage:
    head, base = lines

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        if roc:
            ax.plot([0, 1], [0, 1], color="#BBBBBB", linestyle=":", linewidth=1.0, label="chance")
        if base is not None:
            ax.plot(base[0], base[1], color=BASE, label=f"base ({base[2]})", **_BASE_LINE)
        ax.plot(head[0], head[1], color=HEAD, linewidth=1.8, label=f"head ({head[2]})")
        labels = ("false positive rate", "true positive rate") if roc else ("recall", "precision")
        ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), xlabel=labels[0], ylabel=labels[1], title=plain(title))
        ax.legend(loc="lower right" if roc else "lower left")

    texts = [f"head {head[2]}"] + ([f"base {base[2]}"] if base is not None else [])
    return PlotImage(title, save_png(title, out_dir, draw, fixed=True), f"{title}: {', '.join(texts)}")


def plot_bars(rows: Sequence[Bar], out_dir: Path, title: str = "Gated metrics: base vs head") -> PlotImage:
    """Base (grey) and head (blue) bars per metric, each row scaled to its larger value, values written on.

    No layout engine: `_place_bars` sizes the margins from the measured names, title, x label, legend and
    value labels, so a long name is never clipped and short ones waste no space.
    """
    shown = list(rows[:MAX_BARS])
    more = f" (first {MAX_BARS} of {len(rows)})" if len(rows) > MAX_BARS else ""
    heading, sides = plain(title, 70 - len(more)) + more, _sides(shown)

    def draw(fig: Figure) -> None:
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set(xticks=[], yticks=[], ylim=(max(len(shown), 1) - 0.5, -0.5), xlabel=_BARS_XLABEL)
        ax.set_title(heading, y=1.0)  # a given y: placed by _place_bars, not moved by Axes.draw
        ax.grid(False)
        names = _draw_names(ax, [plain(name, 32) for name, _, _ in shown])
        values = [_draw_side(ax, side) for side in sides]
        legend = fig.legend(loc="lower center", ncols=2) if shown else None
        _place_bars(fig, ax, names, legend, list(zip(sides, values, strict=True)))

    height = max(HEIGHT_IN, 0.32 * len(shown) + 1.2)
    alt = f"{title}: {', '.join(name for name, _, _ in shown)}{more}"
    return PlotImage(title, save_png(title, out_dir, draw, height, fixed=True), alt)


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
    left = _EDGE_PX + max((name.get_window_extent(draws).width for name in names), default=0.0) + tick
    _fit_width(ax.title, fig.bbox.width - 2 * _EDGE_PX, draws)
    top = _EDGE_PX + ax.title.get_window_extent(draws).height + rc["axes.titlepad"] * pt
    floor = legend.get_window_extent(draws).y1 if legend is not None else 0.0
    labelpad = rc["axes.labelpad"] * pt
    bottom = floor + _EDGE_PX + ax.xaxis.label.get_window_extent(draws).height + labelpad
    width, height = fig.bbox.width, fig.bbox.height
    box = (left, bottom, width - left - _EDGE_PX, height - bottom - top)
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
    centre = max(_EDGE_PX + half, min(box[0] + box[2] / 2, width - _EDGE_PX - half))
    return (centre - box[0]) / box[2]


def collect_images(
    root: Path, pattern: str, out_dir: Path, *, notes: list[str] | None = None
) -> list[PlotImage]:
    """User PNGs under `root` matching the glob `pattern`, copied into `out_dir`, in path order.

    A file that is not a PNG (by its magic bytes), is over MAX_IMAGE_BYTES, resolves outside `root`, or comes
    after the first MAX_IMAGES is left out, and a line saying which and why is appended to `notes`.
    """
    notes = notes if notes is not None else []
    top, matches = root.resolve(), _matches(root, pattern, out_dir)
    if not matches:
        notes.append(f"image {pattern!r}: no file matched")
    images: list[PlotImage] = []
    for path in matches:
        if len(images) == MAX_IMAGES:
            left = len(matches) - matches.index(path)
            notes.append(f"image {pattern!r}: {left} more files left out, at most {MAX_IMAGES} are shown")
            break
        problem = _image_problem(path, top)
        if problem is None:
            images.append(_copy_image(path, root, out_dir))
        else:
            notes.append(f"image {path.relative_to(root).as_posix()!r} left out: {problem}")
    return images


def _matches(root: Path, pattern: str, out_dir: Path) -> list[Path]:
    """The files under `root` that the glob `pattern` matches, in path order, leaving out `out_dir`'s."""
    if not pattern or Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise ConfigError("plots", f"image path {pattern!r} must be relative and stay inside the repository")
    out = out_dir.resolve()
    try:
        found = [p for p in root.glob(pattern) if p.is_file() and not p.resolve().is_relative_to(out)]
    except ValueError as exc:  # e.g. "**" inside a path component
        raise ConfigError("plots", f"image path {pattern!r} is not a valid glob: {exc}") from exc
    return sorted(found)


def _image_problem(path: Path, top: Path) -> str | None:
    if not path.resolve().is_relative_to(top):
        return "it points outside the repository"
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return f"{size / 2**20:.1f} MiB is over the {MAX_IMAGE_BYTES // 2**20} MiB limit"
    with path.open("rb") as handle:
        if handle.read(len(PNG_MAGIC)) != PNG_MAGIC:
            return "not a PNG file"
    return None


def _copy_image(path: Path, root: Path, out_dir: Path) -> PlotImage:
    name = path.relative_to(root).as_posix()
    target = out_dir / png_name(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    target.write_bytes(path.read_bytes())
    return PlotImage(name, target, f"image {name}")


def warm() -> None:
    """Load matplotlib, the Agg canvas and the report font, so the first real plot draws at full speed."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font_glyphs()
    fig = Figure(figsize=(1, 1), dpi=20)
    FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, plain("warm"), family=FONT)
    fig.savefig(io.BytesIO(), format="png")
