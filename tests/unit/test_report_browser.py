"""The HTML report in a real headless Chromium: every inlined plot decodes (in a page rendered here and in
the report.html that `mlgate report --preview` writes), and a broken one is caught."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlgate.model import Comparison, GateResult, Outcome, PlotImage
from mlgate.report import ReportInput, render_html
from tests.gitproject import GitProject

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"headless Chromium not found at {CHROMIUM}"),
]


def plot_png(path: Path, title: str) -> PlotImage:
    """A real PNG drawn with matplotlib's Figure API on the Agg canvas (no pyplot global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2), dpi=60)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.plot([0, 1, 2, 3], [1.0, 0.6, 0.45, 0.4])
    axes.set_title(title)
    figure.savefig(path, format="png")
    return PlotImage(title, path)


def loaded_images(page: Path, tmp_path: Path) -> tuple[int, int]:
    """(images that decoded, images on the page), as the page's own script counted them after `load`."""
    argv = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=10000",
            "--dump-dom", page.as_uri()]  # fmt: skip
    dom = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True).stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None, f"Chromium printed no page: {dom[:300]!r}"
    counts = re.search(r'data-images-loaded="(\d+)" data-images-total="(\d+)"', body.group(0))
    assert counts is not None, f"the page's image check did not run: {body.group(0)!r}"
    return int(counts.group(1)), int(counts.group(2))


def write_report(tmp_path: Path, plots: list[PlotImage]) -> Path:
    inp = ReportInput("Browser check", GateResult((), Outcome.PASS), Comparison(()), plots=plots)
    page = tmp_path / "report.html"
    page.write_text(render_html(inp), encoding="utf-8")
    return page


def test_every_inlined_plot_loads_when_opened_in_chromium(tmp_path: Path) -> None:
    plots = [plot_png(tmp_path / "loss.png", "Loss"), plot_png(tmp_path / "roc.png", "ROC")]
    page = write_report(tmp_path, plots)
    for plot in plots:
        plot.path.unlink()  # the page must not need the files any more
    assert loaded_images(page, tmp_path) == (2, 2)


def test_a_broken_plot_is_caught_when_its_png_is_corrupt(tmp_path: Path) -> None:
    good = plot_png(tmp_path / "loss.png", "Loss")
    broken = tmp_path / "broken.png"
    broken.write_bytes(good.path.read_bytes()[:40])  # a truncated PNG: the browser cannot decode it
    page = write_report(tmp_path, [good, PlotImage("Broken", broken)])
    assert loaded_images(page, tmp_path) == (1, 2)


def test_every_plot_of_the_previewed_report_loads_when_mlgate_report_wrote_it(
    project: GitProject, tmp_path: Path
) -> None:
    history = "epoch,loss\n" + "".join(f"{e},{1 / (e + 1)}\n" for e in range(20))
    config = (
        "metrics: [metrics.json]\ngates:\n  - {metric: acc, abs: 0.01}\nplots:\n"
        "  - {kind: curve, path: history.csv, x: epoch, y: [loss]}\n  - {kind: bars}\n"
    )
    project.commit("base", **{"metrics.json": {"acc": 0.8}, "history.csv": history, ".mlgate.yml": config})
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.82})
    done = subprocess.run(
        [sys.executable, "-m", "mlgate", "report", "--preview", "-o", "out"],
        cwd=project.root, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = project.root / "out" / "report.html"
    assert page.read_text().count("<img") == 2
    for png in (project.root / "out").glob("*.png"):
        png.unlink()  # the page is self-contained
    assert loaded_images(page, tmp_path) == (2, 2)
