"""The canvas every plot is drawn on: the house style and palette, the deterministic PNG writer, plain text.

Rendering uses matplotlib's object API (`Figure` and the Agg canvas, never pyplot's global state) inside an
`rc_context` built from matplotlib's defaults, so a `matplotlibrc` in the user's repository cannot restyle the
output. PNGs carry no "Software" chunk and no time stamp: the same data gives the same bytes. Every string
that reaches a figure goes through `plain`: no mathtext, no missing glyph. matplotlib is imported inside the
functions that need it.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN, DPI = 6.4, 3.6, 100
FONT = "DejaVu Sans"  # bundled with matplotlib, so the glyph check in `plain` is exact
EDGE_PX = 4.0  # a layout computed by hand keeps every text this far inside the figure's edge
# Okabe & Ito's palette, told apart with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
HEAD, BASE = PALETTE[0], "#7A7A7A"

_STYLE: dict[str, Any] = {
    "font.family": [FONT],
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "figure.titlesize": 11.0,
    "legend.fontsize": 8.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "text.usetex": False,
}
# NOTE: no layout engine: one makes savefig draw the figure twice and measure it in between (matplotlib
# backend_bases.print_figure), about half the render time. Single-axes line plots get these margins;
# the bar chart and the confusion matrix place their axes from measured text (`renderer`).
_MARGINS = {"left": 0.12, "right": 0.97, "bottom": 0.15, "top": 0.9}


def save_png(
    title: str,
    out_dir: Path,
    draw: Callable[[Figure], None],
    height: float = HEIGHT_IN,
) -> Path:
    """Draw a fresh Figure under the house style and write it to `out_dir` as a deterministic PNG.

    No layout engine: subplots get `_MARGINS`; `draw` may instead place its axes itself (`add_axes`).
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rc: Any = {key: value for key, value in matplotlib.rcParamsDefault.items() if key != "backend"}
    path = out_dir / png_name(title)
    out_dir.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(rc | _STYLE):
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        # NOTE: Figure(subplotpars=...) is reset by Figure.clear() in __init__; set the margins after.
        fig.subplots_adjust(**_MARGINS)
        FigureCanvasAgg(fig)
        draw(fig)
        # NOTE: Agg's PNG writer adds only the metadata it is given ("Software" by default, never a time
        # stamp); metadata={"Software": None} removes that (matplotlib docs, Figure.savefig `metadata`).
        fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def renderer(fig: Figure) -> RendererAgg:
    """The Agg renderer that `save_png` will draw `fig` with, to measure text before placing the axes.

    `Text.get_window_extent(renderer(fig))` is the box the text will be drawn in, in pixels.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    # NOTE: FigureCanvasAgg.get_renderer keeps one renderer per (width, height, dpi), and savefig at the
    # figure's own dpi draws with that same one, so measuring first costs no second buffer. backend_agg
    # ships no type hints, hence the ignore.
    canvas = cast(FigureCanvasAgg, fig.canvas)
    return cast("RendererAgg", canvas.get_renderer())  # type: ignore[no-untyped-call]


def png_name(title: str) -> str:
    """A stable, safe file name: a slug of the title plus a digest of it, so two titles never share one."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:48].strip("-") or "plot"
    return f"{slug}-{hashlib.sha256(title.encode()).hexdigest()[:8]}.png"


def plain(text: str, limit: int = 70) -> str:
    """Text that matplotlib draws literally: one line, no mathtext, only glyphs the font has, `limit` long."""
    glyphs = font_glyphs()
    chars = ("?" if ch.isprintable() and ord(ch) not in glyphs else ch for ch in text)
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in chars).split())
    line = line if len(line) <= limit else line[: limit - 1] + "…"
    # NOTE: a legend drops labels that start with "_"; an escaped "\$" is drawn as "$" and never opens
    # mathtext (matplotlib docs, "Writing mathematical expressions": escape a literal dollar sign as \$).
    return (" " + line if line.startswith("_") else line).replace("$", r"\$")


@functools.cache
def font_glyphs() -> frozenset[int]:
    """The code points the report font can draw (read once)."""
    from matplotlib import font_manager

    return frozenset(font_manager.get_font(font_manager.findfont(FONT)).get_charmap())
