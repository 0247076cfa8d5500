"""The report's pictures: training curves, confusion matrices and ROC/PR curves as PNG files.

Each `plot_*` says what to draw on a fresh Figure; plotcanvas.py draws it under the house style into a
deterministic PNG, and makes every string that reaches a figure (titles, metric and class names) plain
text (the metric bars, laid out by hand, are plotbars.py's). User images (`kind: image`) are collected
here too. matplotlib and numpy are imported inside the functions that need them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mlgate.errors import ConfigError, MetricsError
from mlgate.model import PlotImage, Predictions
from mlgate.plotcanvas import (
    BASE,
    DPI,
    EDGE_PX,
    FONT,
    HEAD,
    PALETTE,
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
    from matplotlib.text import Text

    Array = np.ndarray[Any, Any]
    Curve = tuple[Array, Array]
    Table = Mapping[str, Sequence[float] | Array]  # a history: column name → values (list or numpy array)

BUCKETS = int(WIDTH_IN * DPI)  # one min/max bucket per pixel column of the figure
ANNOTATE_CLASSES = 10
_BAR_GAP_PX = 12.0  # confusion matrix: the last panel to its colour bar
MAX_IMAGES, MAX_IMAGE_BYTES = 20, 5 * 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_BASE_LINE: dict[str, Any] = {"linestyle": "--", "linewidth": 1.3, "alpha": 0.8}


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
    return PlotImage(title, save_png(title, out_dir, draw), alt)


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
        axes = [fig.add_axes((0.0, 0.0, 1.0, 1.0)) for _ in matrices]
        for ax, (label, counts, p) in zip(axes, matrices, strict=True):
            image = _draw_confusion(ax, counts, _class_names(p, counts.shape[0]))
            ax.set_title(label, y=1.0)  # a given y: placed by _place_confusion, not moved by Axes.draw
        cax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        fig.colorbar(image, cax=cax, label="share of the true class", ticks=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
        _place_confusion(fig, axes, cax, fig.suptitle(plain(title)))

    alt = f"{title} of {preds.source}" + (f" beside the base's ({base.source})" if base is not None else "")
    return PlotImage(title, save_png(title, out_dir, draw), alt)


class _Margins(NamedTuple):
    """What the confusion figure's text needs around its panels, in pixels, as measured (lists: per panel)."""

    names: list[float]  # left of a panel: its y tick labels and ticks
    left: list[float]  # left of a panel: names, the y label, a pad either side
    below: list[float]  # below a panel: its x tick labels and ticks
    bottom: float  # figure bottom to the panels: the deepest below, the x label and its pad, the edge
    above: float  # panels to figure top: panel titles, the suptitle, the edges
    bar: float  # right of the last panel, the colour bar aside: the gap, its ticks, its label
    pad: float  # axes.labelpad


def _measure_confusion(fig: Figure, axes: list[Axes], cax: Axes, heading: Text) -> _Margins:
    import matplotlib

    draws, pt, rc = renderer(fig), fig.dpi / 72, matplotlib.rcParams
    tick, pad = (rc["xtick.major.size"] + rc["xtick.major.pad"]) * pt, rc["axes.labelpad"] * pt
    names = [_extent(draws, ax.get_yticklabels(), 0) + tick for ax in axes]
    ylabel, xlabel = _extent(draws, [axes[0].yaxis.label], 0), _extent(draws, [axes[0].xaxis.label], 1)
    below = [_extent(draws, ax.get_xticklabels(), 1) + tick for ax in axes]
    titles = _extent(draws, [ax.title for ax in axes if ax.get_title()], 1)
    titles += rc["axes.titlepad"] * pt if titles else 0.0
    bar = _extent(draws, cax.get_yticklabels(), 0) + _extent(draws, [cax.yaxis.label], 0)
    return _Margins(
        names,
        [width + ylabel + 2 * pad for width in names],
        below,
        EDGE_PX + max(below) + xlabel + pad,
        2 * EDGE_PX + _extent(draws, [heading], 1) + titles,
        _BAR_GAP_PX + tick + bar + pad,
        pad,
    )


def _place_confusion(fig: Figure, axes: list[Axes], cax: Axes, heading: Text) -> None:
    """Square panels as large as the figure allows beside their measured text, the colour bar right of them
    (85 % of their height, a twentieth as wide), all centred: what constrained layout did, in one draw."""
    room = _measure_confusion(fig, axes, cax, heading)
    width, height, n = fig.bbox.width, fig.bbox.height, len(axes)
    tall = height - room.above - room.bottom
    side = min((width - 2 * EDGE_PX - sum(room.left) - room.bar) / (n + 0.85 / 20), tall)
    x = (width - sum(room.left) - n * side - room.bar - 0.85 * side / 20) / 2
    y = room.bottom + (tall - side) / 2
    for ax, left, names, below in zip(axes, room.left, room.names, room.below, strict=True):
        x += left
        ax.set_position((x / width, y / height, side / width, side / height))
        ax.yaxis.set_label_coords(-(names + room.pad) / side, 0.5)
        ax.xaxis.set_label_coords(0.5, -(below + room.pad) / side)
        x += side
    bar = (x + _BAR_GAP_PX, y + 0.075 * side, 0.85 * side / 20, 0.85 * side)
    cax.set_position((bar[0] / width, bar[1] / height, bar[2] / width, bar[3] / height))
    heading.set_y(1.0 - EDGE_PX / height)


def _extent(draws: RendererAgg, texts: Sequence[Text], axis: int) -> float:
    """The widest (axis 0) or tallest (axis 1) of `texts` as drawn, in pixels; 0 for none."""
    return max((t.get_window_extent(draws).size[axis] for t in texts), default=0.0)


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
    return PlotImage(title, save_png(title, out_dir, draw), f"{title}: {', '.join(texts)}")


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


def skip_set_help() -> None:
    """In the plot worker only, before matplotlib's artists load: skip writing `help()` text for `set()`.

    NOTE: as each of matplotlib's ~90 Artist classes is defined, it inspects its setters to write a signature
    and a docstring for its `set()` (`Artist._update_set_signature_and_docstring`): about a third of
    importing matplotlib.figure, read only by `help()` and `inspect.signature`. `set()` itself works the same
    without them, and the worker never shows help. Only the flag that later subclasses check is kept. A
    matplotlib without this hook is left as it is (tests/unit/test_plotworker.py notices).
    """
    from matplotlib.artist import Artist

    if not hasattr(Artist, "_update_set_signature_and_docstring"):
        return

    def flag_only(cls: type[Artist]) -> None:
        cls.set._autogenerated_signature = True  # type: ignore[attr-defined]

    Artist._update_set_signature_and_docstring = classmethod(flag_only)


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
