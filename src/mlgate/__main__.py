"""`python -m mlgate`: the same entry point as the `mlgate` console script."""

from mlgate.entry import run

run()
