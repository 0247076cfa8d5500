"""Where commands write: results to stdout, progress and warnings to stderr, secrets masked on the way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Console:
    """Output of one invocation. `verbosity`: -1 quiet, 0 normal, 1 verbose."""

    out: TextIO
    err: TextIO
    verbosity: int = 0
    mask: Callable[[str], str] = field(default=lambda text: text)
    warnings: list[str] = field(default_factory=list)

    def print(self, text: str = "") -> None:
        """A result line on stdout (shown even with -q)."""
        self.out.write(self.mask(text) + "\n")
        self.out.flush()

    def info(self, text: str) -> None:
        """Progress on stderr, hidden by -q."""
        if self.verbosity >= 0:
            self.err.write(self.mask(text) + "\n")
            self.err.flush()

    def debug(self, text: str) -> None:
        if self.verbosity > 0:
            self.err.write(self.mask(text) + "\n")

    def warn(self, text: str) -> None:
        """`mlgate: warning: …` on stderr, kept for the report."""
        self.warnings.append(text)
        self.err.write(f"mlgate: warning: {self.mask(text)}\n")
        self.err.flush()
