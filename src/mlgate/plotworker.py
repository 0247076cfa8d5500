"""The plot worker: a forked process that loads matplotlib while the parent evaluates, then renders the plots.

Importing matplotlib and drawing its first text costs about 0.7 s on a 2-core runner, more than everything
else in a local report. `PlotWorker.start()` forks when a command begins, before the config is read; the child
imports matplotlib, warms the font cache and waits for work, so by the time the parent has loaded the config,
read git, compared and gated, the plotting library is ready on the other core. `submit(plots.plot_curve, …)`
sends a plot to the worker, which draws each one in a fork of itself (a copy of a warm process costs
nothing to start), as many at once as there are cores; `result()` returns its `PlotImage`.

The worker only ever saves time, it never changes a result: where it cannot start (no `fork`, or other
threads are running) or stops working (it died, a message would not pickle), the parent draws the plot itself.
A plot's own bad input (`MetricsError`, `ConfigError`) comes back as the same error, so the report's
"plot skipped" warnings read the same either way.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import select
import selectors
import signal
import struct
import threading
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

from mlgate.errors import ConfigError, MetricsError

P = ParamSpec("P")
T = TypeVar("T")

_HEADER = struct.Struct("!Q")
BURST_S = 0.005  # the parent sends a report's plots back to back, well within this of each other
_ERRORS: dict[str, type[MetricsError] | type[ConfigError]] = {"metrics": MetricsError, "config": ConfigError}


class PlotWorker:
    """Runs plot functions in a pre-warmed child process; falls back to the caller's process."""

    def __init__(self, pid: int | None, jobs: int | None, results: int | None) -> None:
        self._pid, self._jobs, self._results = pid, jobs, results
        self._sent: list[bool] = []  # per job: whether it went to the worker
        self._answers: list[tuple[str, Any]] = []

    @classmethod
    def inline(cls) -> PlotWorker:
        """A worker that draws in the caller's process."""
        return cls(None, None, None)

    @classmethod
    def start(cls, warm: Callable[[], object]) -> PlotWorker:
        """Fork the worker now, if this process may fork, and run `warm` in it; else one that draws here."""
        # NOTE: fork only while single-threaded: a lock that another thread holds at the fork stays held
        # in the child for ever (the reason Python 3.12 warns on fork in a threaded process, gh-100228).
        if not hasattr(os, "fork") or threading.active_count() > 1:
            return cls.inline()
        jobs_r, jobs_w = os.pipe()
        results_r, results_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its behaviour is checked through the parent
            os.close(jobs_w)
            os.close(results_r)
            _serve(warm, jobs_r, results_w)
        os.close(jobs_r)
        os.close(results_w)
        return cls(pid, jobs_w, results_r)

    @property
    def pid(self) -> int | None:
        """The worker process, while there is one."""
        return self._pid

    @property
    def forked(self) -> bool:
        """True while a live child does the drawing."""
        return self._pid is not None

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)`, run in the worker when there is one (fn must be a module-level function)."""
        return self.submit(fn, *args, **kwargs).result()

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Pending[T]:
        """Send `fn(*args, **kwargs)` to the worker now; its `result()` waits for it (in submission order)."""
        pending = Pending(self, len(self._sent), functools.partial(fn, *args, **kwargs))
        if self._jobs is not None:
            try:
                _send(self._jobs, (fn, args, kwargs))
            except (OSError, pickle.PickleError, AttributeError, TypeError):
                self.close()
        self._sent.append(self._jobs is not None)
        return pending

    def _answer(self, index: int) -> tuple[str, Any]:
        """The worker's answer to job `index` ("local" when the job must run here instead)."""
        if not self._sent[index]:
            return "local", None
        while len(self._answers) <= index and self._results is not None:
            try:
                self._answers.append(_receive(self._results))
            except (OSError, EOFError, pickle.PickleError, AttributeError, TypeError):
                self.close()
        return self._answers[index] if index < len(self._answers) else ("local", None)

    def close(self) -> None:
        """Stop the worker and reap it; safe to call twice."""
        pid, self._pid = self._pid, None
        for fd in (self._jobs, self._results):
            if fd is not None:
                os.close(fd)
        self._jobs = self._results = None
        if pid is None:
            return
        # NOTE: every answer the parent will use has been read by now, so the child holds nothing of value.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    def __enter__(self) -> PlotWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Pending(Generic[T]):
    """One submitted plot: `result()` returns it, or raises the plot's own MetricsError or ConfigError."""

    def __init__(self, worker: PlotWorker, index: int, here: Callable[[], T]) -> None:
        self._worker, self._index, self._here = worker, index, here

    def result(self) -> T:
        status, payload = self._worker._answer(self._index)
        if status == "ok":
            return payload  # type: ignore[no-any-return]
        if status in _ERRORS:
            raise _ERRORS[status](*payload)
        # "local": no worker, or it stopped; "bug": draw here, so the bug surfaces with its traceback
        return self._here()


def _serve(warm: Callable[[], object], jobs: int, results: int) -> None:  # pragma: no cover - the child
    """The child's life: warm up (import matplotlib), then answer jobs until the parent closes the pipe."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        warm()
        _Dispatcher(jobs, results, max(2, os.cpu_count() or 2)).run()
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # never run the parent's cleanup (atexit, buffered output) in the child


class _Dispatcher:  # pragma: no cover - runs in the forked child
    """The worker's loop: jobs waiting together are drawn at once, one by the worker and the others by
    forks of it (up to `width` in all), and the answers go back in submission order. A copy that dies
    without answering answers "bug" (the parent then draws that plot itself)."""

    def __init__(self, jobs: int, results: int, width: int) -> None:
        self.jobs, self.results, self.width = jobs, results, width
        self.selector = selectors.DefaultSelector()
        self.selector.register(jobs, selectors.EVENT_READ)
        self.queue: list[tuple[int, Any]] = []
        self.running: dict[int, tuple[int, int]] = {}  # answer pipe → (job index, pid)
        self.answers: dict[int, tuple[str, Any]] = {}
        self.taken = self.sent = 0
        self.open = True

    def run(self) -> None:
        while self.open or self.running or self.queue:
            # NOTE: with jobs still queued, only look for what is ready: the next one is drawn at once
            for key, _ in self.selector.select(0 if self.queue else None):
                if key.fd == self.jobs:
                    self._take()
                else:
                    self._collect(key.fd)
            self._dispatch()
            while self.sent in self.answers:
                _send(self.results, self.answers.pop(self.sent))
                self.sent += 1

    def _dispatch(self) -> None:
        """Copies draw all but the first queued job; the first is drawn here, where nothing is copied on
        write (the fastest draw), once the copies are under way."""
        while len(self.queue) > 1 and len(self.running) < self.width - 1:
            self._start(*self.queue.pop(1))
        if self.queue:
            index, job = self.queue.pop(0)
            self.answers[index] = _answer(*job)

    def _take(self) -> None:
        """Read every job already waiting, and those sent right behind them (BURST_S), so that plots
        submitted together are drawn at the same time even when the worker was idle when they came."""
        while self.open:
            try:
                self.queue.append((self.taken, _receive(self.jobs)))
                self.taken += 1
            except EOFError:
                self.open = False
                self.selector.unregister(self.jobs)
            if not select.select([self.jobs], [], [], BURST_S)[0]:
                break

    def _start(self, index: int, job: Any) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read)
                _send(write, _answer(*job))
            finally:
                os._exit(0)
        os.close(write)
        self.running[read] = (index, pid)
        self.selector.register(read, selectors.EVENT_READ)

    def _collect(self, fd: int) -> None:
        index, pid = self.running.pop(fd)
        self.selector.unregister(fd)
        try:
            self.answers[index] = _receive(fd)
        except (EOFError, OSError, pickle.PickleError):
            self.answers[index] = ("bug", "the drawing process died")
        os.close(fd)
        os.waitpid(pid, 0)


def _answer(fn: Callable[..., Any], args: Any, kwargs: Any) -> tuple[str, Any]:  # pragma: no cover - child
    try:
        return "ok", fn(*args, **kwargs)
    except MetricsError as exc:
        return "metrics", (exc.where, exc.what)
    except ConfigError as exc:
        return "config", (exc.where, exc.what)
    except Exception as exc:
        return "bug", repr(exc)


def _send(fd: int, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int) -> Any:
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
    return pickle.loads(_read_exactly(fd, size))


def _read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the plot worker's pipe closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


__all__ = ["Pending", "PlotWorker"]
