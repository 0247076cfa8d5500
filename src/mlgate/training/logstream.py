"""A training run's output as lines: each one to the log file, to the console (`  | line`) and a bounded tail.

Shared by the backends so a log looks the same wherever the training ran. Lines arrive either from a pipe
(`pump`, one readline at a time) or as arbitrary chunks of bytes (`feed`, e.g. the Docker log stream), in
which case a partial last line is held until its newline or `finish`. The progress clock prints the
"training… N s elapsed" line at a fixed interval. Each line passes the console's token mask before it is
kept anywhere: the log file and the run record's tail are uploaded as artifacts and quoted in the report.
"""

from __future__ import annotations

from collections import deque
from typing import IO

from mlgate.console import Console

LOG_TAIL_LINES = 60
PROGRESS_EVERY_S = 30.0


class LogStream:
    """Writes lines of one run to `log` and `console` and keeps the last `LOG_TAIL_LINES` for the report."""

    def __init__(self, log: IO[str], console: Console, tail_lines: int = LOG_TAIL_LINES) -> None:
        self.log = log
        self.console = console
        self._tail: deque[str] = deque(maxlen=tail_lines)
        self._partial = b""

    @property
    def tail(self) -> tuple[str, ...]:
        return tuple(self._tail)

    def line(self, text: str) -> None:
        """One line of the training's output (no trailing newline), its tokens masked before it is kept."""
        text = self.console.mask(text)
        self.log.write(text + "\n")
        self.log.flush()
        self._tail.append(text)
        self.console.info(f"  | {text}")

    def note(self, text: str) -> None:
        """A line of mlgate's own in the log file (not in the tail, not on the console)."""
        self.log.write(text + "\n")
        self.log.flush()

    def pump(self, stream: IO[bytes]) -> None:
        """Read `stream` to its end line by line, then close it."""
        for raw in iter(stream.readline, b""):
            self.line(_decode(raw))
        stream.close()

    def feed(self, chunk: bytes) -> None:
        """Any piece of output; complete lines are written, the rest waits for its newline."""
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for raw in lines:
            self.line(_decode(raw))

    def finish(self) -> None:
        """Write a last line that had no newline."""
        if self._partial:
            self.line(_decode(self._partial))
            self._partial = b""


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r\n")


class ProgressClock:
    """Prints `mlgate: training… N s elapsed` every `every_s` seconds of a run started at `started`."""

    def __init__(self, console: Console, started: float, every_s: float = PROGRESS_EVERY_S) -> None:
        self.console = console
        self.started = started
        self.every_s = every_s
        self._next = started + every_s

    def tick(self, now: float) -> None:
        if now >= self._next:
            self.console.info(f"mlgate: training… {now - self.started:.0f} s elapsed")
            self._next += self.every_s
