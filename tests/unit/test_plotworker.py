"""The plot worker: plots drawn in a forked, pre-warmed child come back as if drawn here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate import plotbars, plots
from mlgate.errors import MetricsError
from mlgate.plotworker import PlotWorker
from tests.gitproject import GitProject

ROWS = [("eval.accuracy", 0.81, 0.84), ("eval.f1", 0.70, 0.69)]


def where_am_i() -> int:
    return os.getpid()


def nap(seconds: float) -> tuple[int, float, float]:
    started = time.monotonic()  # NOTE: CLOCK_MONOTONIC, one clock for every process of the machine
    time.sleep(seconds)
    return os.getpid(), started, time.monotonic()


def bad_history(path: str) -> None:
    raise MetricsError(path, "no column `val_loss`")


def has_3d() -> bool:
    return sys.modules.get("mpl_toolkits.mplot3d") is not None


def set_help() -> str:
    """What `help(Line2D.set)` would list: the generated property list, or nothing where it was skipped."""
    from matplotlib.lines import Line2D

    return "linewidth" if "linewidth" in (Line2D.set.__doc__ or "") else "none"


def buggy() -> None:
    raise ValueError("a bug in a plot function")


@pytest.fixture
def worker() -> Iterator[PlotWorker]:
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this test process: the worker would not fork")
    with PlotWorker.start(plots.warm) as started:
        yield started


def test_plot_is_drawn_in_the_child_and_matches_an_in_process_render_when_forked(
    worker: PlotWorker, tmp_path: Path
) -> None:
    assert worker.forked
    assert worker.call(where_am_i) != os.getpid()
    there = worker.call(plotbars.plot_bars, ROWS, tmp_path / "worker")
    here = plotbars.plot_bars(ROWS, tmp_path / "here")
    assert there.path.parent == tmp_path / "worker"
    assert there.path.read_bytes() == here.path.read_bytes()
    assert (there.title, there.alt) == (here.title, here.alt)


def test_submitted_plots_come_back_in_order_when_several_are_in_flight(
    worker: PlotWorker, tmp_path: Path
) -> None:
    first = worker.submit(plotbars.plot_bars, ROWS, tmp_path, title="first")
    second = worker.submit(plotbars.plot_bars, ROWS[:1], tmp_path, title="second")
    assert second.result().title == "second"
    assert first.result().title == "first"


def test_bad_plot_data_raises_the_same_metrics_error_when_drawn_in_the_child(worker: PlotWorker) -> None:
    with pytest.raises(MetricsError) as caught:
        worker.call(bad_history, "logs/history.csv")
    assert (caught.value.where, caught.value.what) == ("logs/history.csv", "no column `val_loss`")


def test_a_bug_surfaces_here_with_its_own_exception_when_the_child_hits_it(worker: PlotWorker) -> None:
    with pytest.raises(ValueError, match="a bug in a plot function"):
        worker.call(buggy)


def test_plots_are_drawn_at_once_by_the_worker_and_a_copy_when_several_are_in_flight(
    worker: PlotWorker,
) -> None:
    worker.call(where_am_i)  # warm and idle, as after a long training: the plots then come one by one
    pending = [worker.submit(nap, 0.8) for _ in range(2)]
    (first, first_start, first_end), (second, second_start, second_end) = (p.result() for p in pending)
    assert max(first_start, second_start) < min(first_end, second_end), "they were drawn at the same time"
    pids = {first, second}
    assert len(pids) == 2  # the worker drew one, a copy of it the other
    assert worker.pid in pids
    assert os.getpid() not in pids


def test_a_queued_plot_is_drawn_as_soon_as_the_worker_is_free_not_when_a_copy_answers(
    worker: PlotWorker,
) -> None:
    worker.call(where_am_i)
    short, long, third = (worker.submit(nap, seconds) for seconds in (0.2, 1.0, 0.2))
    _, _, long_end = long.result()
    _, third_start, _ = third.result()
    short.result()
    assert third_start < long_end, "the third waited for the copy drawing the second"


def test_plots_are_drawn_here_when_the_child_died(worker: PlotWorker) -> None:
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    assert worker.call(where_am_i) == os.getpid()
    assert not worker.forked


def test_close_reaps_the_child_when_it_never_got_work() -> None:
    if threading.active_count() > 1:
        pytest.skip("another thread runs in this test process: the worker would not fork")
    worker = PlotWorker.start(plots.warm)
    pid = worker.pid
    assert pid is not None
    worker.close()
    worker.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_nothing_is_forked_when_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        worker = PlotWorker.start(plots.warm)
        assert not worker.forked
        assert worker.call(where_am_i) == os.getpid()
    finally:
        stop.set()
        thread.join()


def test_report_preview_from_the_command_line_has_both_plots_when_the_worker_draws(
    project: GitProject,
) -> None:
    history = "epoch,loss\n" + "".join(f"{e},{1 / (e + 1)}\n" for e in range(50))
    config = (
        "metrics: [metrics.json]\ngates:\n  - {metric: acc, abs: 0.01}\nplots:\n"
        "  - {kind: curve, path: history.csv, x: epoch, y: [loss]}\n  - {kind: bars}\n"
        "  - {kind: curve, path: missing.csv}\n"
    )
    project.commit("base", **{"metrics.json": {"acc": 0.8}, "history.csv": history, ".mlgate.yml": config})
    project.branch("feature")
    project.write("metrics.json", {"acc": 0.82})
    done = subprocess.run(
        [sys.executable, "-m", "mlgate", "report", "--preview", "-o", "out"],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "plots[2] (curve) skipped: missing.csv" in done.stderr
    assert len(list((project.root / "out").glob("*.png"))) == 2
    html = (project.root / "out" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2


FRESH_WORKER = """
import sys
from pathlib import Path
from mlgate import plotbars
from mlgate.entry import _warm_plots
from mlgate.plotworker import PlotWorker
from tests.unit.test_plotworker import ROWS, has_3d, set_help
with PlotWorker.start(_warm_plots) as worker:
    assert worker.forked
    drawn = worker.call(plotbars.plot_bars, ROWS, Path(sys.argv[1])).path
    print(worker.call(has_3d), worker.call(set_help), drawn)
"""


def test_the_console_scripts_worker_leaves_out_3d_and_set_help_and_draws_the_same(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", FRESH_WORKER, str(tmp_path / "worker")],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
    )
    loaded, helped, drawn = done.stdout.split()
    assert loaded == "False"
    assert helped == "none"
    assert set_help() == "linewidth"  # matplotlib as imported here, by the tests, still writes it
    assert "Axes3D" not in done.stderr
    assert Path(drawn).read_bytes() == plotbars.plot_bars(ROWS, tmp_path / "here").path.read_bytes()
