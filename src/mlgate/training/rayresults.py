"""The runner's side of a Ray job's log: new lines to the console and log file, results to the work tree.

The Jobs API returns the whole log on every poll; `LogFollower` keeps the part already seen and hands on each
complete new line. Lines between `@@mlgate@@ begin` and `end` markers (written by `rayjob.py` on the
cluster) are decoded into the work tree instead of being shown, each checked against its SHA-256; a path that
would land outside the work tree is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from mlgate.console import Console
from mlgate.errors import TrainingError
from mlgate.training.rayjob import MARK

LOG_TAIL_LINES = 60


@dataclass
class Frames:
    """Decodes framed result files into `root`; records what came back, what was skipped, the exit code."""

    root: Path
    written: list[str] = field(default_factory=list)
    skipped: list[tuple[str, int]] = field(default_factory=list)
    error: str | None = None
    exit_code: int | None = None
    _current: tuple[str, IO[bytes], hashlib._Hash] | None = None

    def feed(self, line: str) -> bool:
        """Take one log line; True when it belonged to a frame (and is not to be shown)."""
        if self._current is not None and not line.startswith(MARK):
            self._chunk(line)
            return True
        if not line.startswith(MARK + " "):
            return False
        kind, _, rest = line[len(MARK) + 1 :].partition(" ")
        if kind == "begin":
            self._begin(rest)
        elif kind == "end":
            self._end(rest.strip())
        elif kind == "skip":
            name, _, size = rest.rpartition(" ")
            self.skipped.append((json.loads(name), int(size)))
        elif kind == "error":
            self.error = str(json.loads(rest))
        elif kind == "exit":
            self.exit_code = int(rest)
        return True

    def _begin(self, rest: str) -> None:
        name = str(json.loads(rest.rpartition(" ")[0]))
        target = (self.root / name).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise TrainingError("train.ray", f"the job sent back a file outside the work tree: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".mlgate-part")
        self._current = (name, partial.open("wb"), hashlib.sha256())

    def _chunk(self, line: str) -> None:
        assert self._current is not None
        try:
            data = base64.b64decode(line.strip(), validate=True)
        except binascii.Error:
            raise TrainingError("train.ray", f"result {self._current[0]!r} is garbled in the log") from None
        self._current[1].write(data)
        self._current[2].update(data)

    def _end(self, digest: str) -> None:
        assert self._current is not None
        name, handle, hasher = self._current
        handle.close()
        self._current = None
        partial = Path(handle.name)
        if hasher.hexdigest() != digest:
            partial.unlink()
            raise TrainingError("train.ray", f"result {name!r} came back damaged (SHA-256 mismatch)")
        partial.replace(self.root / name)
        self.written.append(name)


@dataclass
class LogFollower:
    """Shows the new part of a job's log: each complete line to the log file, the console and the tail."""

    log: IO[str]
    console: Console
    frames: Frames
    seen: int = 0
    partial: str = ""
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))

    def update(self, text: str, final: bool = False) -> None:
        if len(text) < self.seen:  # the log was rotated or replaced: start over
            self.seen, self.partial = 0, ""
        chunk, self.seen = self.partial + text[self.seen :], len(text)
        lines = chunk.split("\n")
        self.partial = "" if final else lines.pop()
        for line in lines if not final or lines[-1] else lines[:-1]:
            self._line(line.rstrip("\r"))

    def _line(self, line: str) -> None:
        if self.frames.feed(line):
            return
        line = self.console.mask(line)
        self.log.write(line + "\n")
        self.log.flush()
        self.tail.append(line)
        self.console.info(f"  | {line}")
