"""Where commands write: results to stdout, progress and warnings to stderr, secrets masked on the way."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

# NOTE: pattern strings that `re` compiles on first use (≈3 ms at import otherwise, on every command's path):
# `one_line` needs them only for text that is not printable, which most commands never meet.
_BREAK = r"\r\n|[\r\n\x85\u2028\u2029]"
# C0/C1 controls (ANSI escapes start with ESC), bidi overrides ("Trojan Source"), BOM, and lone surrogates
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"


def one_line(text: str) -> str:
    """`text` as one line: breaks as ⏎, tabs as spaces, control characters gone. A warning or an error quotes
    untrusted text (a metric, a fork's artifact); on its own line it could pose as a CI workflow command
    (`::add-mask::`, `::error::`) or move the terminal's cursor. markdown.clean builds on it."""
    if text.isprintable():
        return text
    return re.sub(_CONTROL, "", re.sub(_BREAK, "⏎", text).replace("\t", " "))


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
        text = one_line(text)
        self.warnings.append(text)
        self.err.write(f"mlgate: warning: {self.mask(text)}\n")
        self.err.flush()
