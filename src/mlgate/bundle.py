"""The report bundle of one evaluation: the plots the config asks for, report.md and report.html.

Everything lands in one folder (the CI artifact, or `mlgate-report/` locally). A plot whose data is missing or
unreadable is skipped with a warning: plots explain a verdict, they never change it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.config import BarsPlot, Config, CurvePlot, ImagePlot, PlotSpec, PredictionPlot
from mlgate.console import Console
from mlgate.errors import MetricsError
from mlgate.model import PlotImage, Predictions, RunRecord
from mlgate.pipeline import Evaluation
from mlgate.plotworker import Pending, PlotWorker
from mlgate.record import Record
from mlgate.tree import FileTree, WorkTree

if TYPE_CHECKING:
    from mlgate.report import ReportInput

REPORT_MD = "report.md"
REPORT_HTML = "report.html"


class Bundle(Record):
    """Where the files are, and the full Markdown (the forge budgets its own copy)."""

    folder: Path
    markdown_path: Path
    html_path: Path
    markdown: str
    plots: tuple[PlotImage, ...]


def write_bundle(
    evaluation: Evaluation,
    folder: Path,
    console: Console,
    *,
    run: RunRecord | None = None,
    banners: Sequence[str] = (),
    plotter: PlotWorker | None = None,
) -> Bundle:
    """Render plots (in `plotter`'s warm process when given) and both report files into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    collect = submit_plots(evaluation, folder, console, plotter or PlotWorker.inline())
    from mlgate.report import compile_templates, render_html, render_markdown

    template = _template_path(evaluation)
    compile_templates(template)  # NOTE: while the worker draws: off the critical path of the report
    plots = tuple(collect())
    inp = report_input(evaluation, plots, run=run, banners=banners, console=console)
    markdown = render_markdown(inp, image_urls={p.path: p.path.name for p in plots}, template=template)
    md_path = folder / REPORT_MD
    html_path = folder / REPORT_HTML
    md_path.write_text(markdown, encoding="utf-8")
    html_path.write_text(render_html(inp), encoding="utf-8")
    return Bundle(folder, md_path, html_path, markdown, plots)


def report_input(
    evaluation: Evaluation,
    plots: Sequence[PlotImage],
    *,
    run: RunRecord | None,
    banners: Sequence[str],
    console: Console,
) -> ReportInput:
    from mlgate.report import ReportInput

    config = evaluation.config
    notes = tuple(console.warnings)
    return ReportInput(
        title=config.report.title,
        gate=evaluation.gate,
        comparison=evaluation.comparison,
        plots=plots,
        run=run,
        banners=tuple(banners),
        notes=notes,
        data_checks=tuple(evaluation.data_checks),
        precision=config.report.precision,
        base_label=evaluation.base_label,
        head_label=evaluation.head_label,
        provenance=evaluation.provenance,
    )


def _template_path(evaluation: Evaluation) -> Path | None:
    template = evaluation.config.report.template
    if template is None:
        return None
    path = Path(template)
    return path if path.is_absolute() else evaluation.repo.root / path


Drawn = Callable[[], list[PlotImage]]  # waits for one configured plot's images


def submit_plots(
    evaluation: Evaluation, folder: Path, console: Console, plotter: PlotWorker
) -> Callable[[], list[PlotImage]]:
    """Send each configured plot to `plotter`; the function returned collects them in config order.

    A plot whose data is missing or unreadable becomes a warning when collected.
    """
    sources = _PlotSources(evaluation, console, plotter)
    jobs: list[tuple[int, PlotSpec, Drawn]] = []
    for index, spec in enumerate(evaluation.config.plots or _dvclive_curves(evaluation.head_tree)):
        try:
            jobs.append((index, spec, _submit_one(spec, sources, folder)))
        except MetricsError as exc:
            jobs.append((index, spec, functools.partial(_reraise, exc)))

    def collect() -> list[PlotImage]:
        images: list[PlotImage] = []
        for index, spec, drawn in jobs:
            try:
                images += drawn()
            except MetricsError as exc:
                console.warn(f"plots[{index}] ({spec.kind}) skipped: {exc}")
        return images

    return collect


def _dvclive_curves(tree: FileTree) -> list[PlotSpec]:
    """With no `plots:` configured, DVCLive's histories as curves, so a DVC project needs no config."""
    from mlgate.dvc import DVCLIVE_CURVES, dvclive_curve

    curves: list[PlotSpec] = []
    for path in tree.glob(DVCLIVE_CURVES):
        x, y = dvclive_curve(path)
        curves.append(CurvePlot(kind="curve", path=path, x=x, y=[y], title=f"{y} ({path})"))
    return curves


def _reraise(exc: MetricsError) -> list[PlotImage]:
    raise exc


class _PlotSources:
    """Lazily loaded inputs of the plots: head and base predictions, histories, the gate's rows."""

    def __init__(self, evaluation: Evaluation, console: Console, plotter: PlotWorker) -> None:
        self.evaluation = evaluation
        self.console = console
        self.submit = plotter.submit
        self._preds: dict[str, Predictions | None] = {}

    @property
    def config(self) -> Config:
        return self.evaluation.config

    @property
    def base_tree(self) -> FileTree | None:
        baseline = self.evaluation.baseline
        return baseline.tree if baseline is not None else None

    def predictions(self, side: str) -> Predictions | None:
        if side not in self._preds:
            self._preds[side] = self._load_predictions(side)
        return self._preds[side]

    def _load_predictions(self, side: str) -> Predictions | None:
        from mlgate.metrics import load_predictions

        cfg = self.config.predictions
        tree = self.evaluation.head_tree if side == "head" else self.base_tree
        if cfg is None or tree is None:
            if side == "head" and cfg is None:
                raise MetricsError("plots", "needs `predictions:` in .mlgate.yml")
            return None
        if side == "base" and not tree.exists(cfg.path):
            return None
        return load_predictions(tree, cfg)


def _submit_one(spec: PlotSpec, sources: _PlotSources, folder: Path) -> Drawn:
    from mlgate import plots

    if isinstance(spec, CurvePlot):
        return _one(_curve(spec, sources, folder))
    if isinstance(spec, PredictionPlot):
        draw: dict[str, Callable[..., PlotImage]] = {
            "confusion": plots.plot_confusion, "roc": plots.plot_roc, "pr": plots.plot_pr,
        }  # fmt: skip
        head = sources.predictions("head")
        assert head is not None
        base = sources.predictions("base")
        if spec.title:
            return _one(sources.submit(draw[spec.kind], head, folder, base, title=spec.title))
        return _one(sources.submit(draw[spec.kind], head, folder, base))
    if isinstance(spec, BarsPlot):
        return _one(_bars(spec, sources, folder))
    assert isinstance(spec, ImagePlot)
    root = sources.evaluation.repo.root
    if not isinstance(sources.evaluation.head_tree, WorkTree):
        raise MetricsError(spec.path, "user images are read from the work tree only")
    notes: list[str] = []
    found = plots.collect_images(root, spec.path, folder, notes=notes)
    for note in notes:
        sources.console.warn(note)
    return lambda: found


def _one(pending: Pending[PlotImage]) -> Drawn:
    return lambda: [pending.result()]


def _curve(spec: CurvePlot, sources: _PlotSources, folder: Path) -> Pending[PlotImage]:
    from mlgate.metrics import load_history
    from mlgate.plots import plot_curve

    head = load_history(sources.evaluation.head_tree, spec.path)
    base_tree = sources.base_tree
    base = (
        load_history(base_tree, spec.path) if base_tree is not None and base_tree.exists(spec.path) else None
    )
    title = spec.title or f"Training curves ({spec.path})"
    return sources.submit(plot_curve, title, head, base, spec.x, spec.y, folder, source=spec.path)


def _bars(spec: BarsPlot, sources: _PlotSources, folder: Path) -> Pending[PlotImage]:
    import fnmatch

    from mlgate.plotbars import plot_bars

    rows = []
    for result in sources.evaluation.gate.results:
        wanted = (
            any(fnmatch.fnmatchcase(result.name, g) for g in spec.metrics) if spec.metrics else result.gated
        )
        if not wanted:
            continue
        base = result.delta.base.value if result.delta.base else None
        head = result.delta.head.value if result.delta.head else None
        rows.append((result.name, base, head))
    if not rows:
        raise MetricsError("plots bars", "no gated metric to draw")
    if spec.title:
        return sources.submit(plot_bars, rows, folder, title=spec.title)
    return sources.submit(plot_bars, rows, folder)
