"""The `mlgate` console script and `python -m mlgate`: the plot worker first, then the command line.

A command that draws plots forks its worker (plotworker.py) before cli.py and the command's own modules are
imported, so matplotlib, the longest part of a local report, starts loading on the other core as early as it
can (DESIGN §11). Then `cli.main` runs and `cli.leave` exits with its code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from mlgate.plotworker import PlotWorker

# NOTE: these commands draw plots; for them a worker process starts loading matplotlib (≈0.7 s) before the
# command's own modules and config load, so both halves of a 2-core runner work at once (plotworker.py).
DRAWS_PLOTS = frozenset({"run", "report", "demo"})


def run() -> NoReturn:
    argv = sys.argv[1:]
    plotter = plotter_for(argv)
    from mlgate.cli import leave, main

    leave(main(argv, plotter=plotter))


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv`: its first word that is not a flag."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def plotter_for(argv: Sequence[str]) -> PlotWorker | None:
    """A warm plot worker for the commands that draw; None (nothing forked or imported) for the others."""
    wants_help = any(arg in ("-h", "--help") for arg in argv)
    if chosen_command(argv) not in DRAWS_PLOTS or wants_help:
        return None
    from mlgate.plotworker import PlotWorker

    return PlotWorker.start(_warm_plots)


def _warm_plots() -> None:
    """Run in the forked worker only: the parent goes on without importing the plotting modules."""
    import warnings

    # NOTE: matplotlib.projections imports mpl_toolkits.mplot3d (≈50 ms on a 2-core runner) for a 3D
    # projection no mlgate plot uses; marked missing, it is left out with a warning (projections/__init__.py).
    # The artists' help texts are skipped too (plots.skip_set_help): the worker's import is the longest part
    # of a local report.
    sys.modules.setdefault("mpl_toolkits.mplot3d", None)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Unable to import Axes3D", UserWarning)
        from mlgate.plots import skip_set_help, warm

        skip_set_help()
        warm()
