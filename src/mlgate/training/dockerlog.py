"""A training container's output followed into the LogStream: live while it runs, caught up after it exits."""

from __future__ import annotations

import threading
from typing import Any

from mlgate.training.dockerhost import first_line
from mlgate.training.logstream import LogStream


class LogFollower:
    """Follows the container's combined output into `lines`, counting the bytes it has seen."""

    def __init__(self, container: Any, lines: LogStream) -> None:
        self.container = container
        self.lines = lines
        self.seen = 0
        self.stream: Any = None
        self.thread = threading.Thread(target=self._follow, daemon=True)

    def _follow(self) -> None:
        try:
            self.stream = self.container.logs(stream=True, follow=True, stdout=True, stderr=True)
            for chunk in self.stream:
                self._feed(chunk)
        except Exception as exc:  # the daemon went away mid-run; the exit status says the rest
            self.lines.note(f"mlgate: log stream ended: {first_line(exc)}")
        finally:
            self.close()

    def close(self) -> None:
        """Close the follow stream's socket (also to unblock a follower still waiting for output)."""
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close()

    def _feed(self, chunk: bytes) -> None:
        self.seen += len(chunk)
        self.lines.feed(chunk)

    def catch_up(self) -> None:
        """After the exit: what the follow stream missed (it may close before a last partial line)."""
        self.thread.join(timeout=5.0)
        if self.thread.is_alive():
            self.close()
            self.thread.join(timeout=1.0)
            return
        try:
            everything: bytes = self.container.logs(stdout=True, stderr=True)
        except Exception:  # the log we have is the log there is
            return
        if len(everything) > self.seen:
            self._feed(everything[self.seen :])
        self.lines.finish()
