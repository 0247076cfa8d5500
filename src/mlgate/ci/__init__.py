"""The CI environment: the one place (with config.py) that reads the process environment."""

from __future__ import annotations

import os
from collections.abc import Mapping


def process_env() -> Mapping[str, str]:
    """A snapshot of the environment, handed to everything else as a plain Mapping."""
    return dict(os.environ)
