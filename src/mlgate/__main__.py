"""`python -m mlgate`: the same entry point as the `mlgate` console script."""

import sys

from mlgate.cli import main

sys.exit(main())
