"""The `subprocess` backend: the training command in its own process group, log streamed and kept.

The command runs through the shell (it is a command line from the config), in a new session so a timeout or
Ctrl-C stops the whole group, grandchildren included. Output goes line by line to the log file and to the
console; a progress line with the elapsed time is printed while it runs. Peak RSS and CPU time come from
`wait4`'s resource usage of the group's leader, which includes every descendant it waited for.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from resource import struct_rusage as Rusage

from mlgate.config import TrainConfig
from mlgate.console import Console
from mlgate.model import GpuTelemetry, RunRecord
from mlgate.training import TrainSpec
from mlgate.training.logstream import LogStream, ProgressClock
from mlgate.training.telemetry import GpuSampler, runner_info

GRACE_S = 5.0


class SubprocessBackend:
    """Run the command on this machine."""

    name = "subprocess"

    @classmethod
    def from_config(cls, train: TrainConfig, env: Mapping[str, str]) -> SubprocessBackend:
        return cls()

    def run(self, spec: TrainSpec, console: Console) -> RunRecord:
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        console.info(f"mlgate: training: {spec.command}  (log: {spec.log_path})")
        started = time.monotonic()
        with spec.log_path.open("w", encoding="utf-8", errors="replace") as log:
            try:
                proc = subprocess.Popen(
                    spec.command,
                    shell=True,
                    cwd=spec.cwd,
                    env=dict(spec.env),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                log.write(f"mlgate: cannot start the training command: {exc}\n")
                return self._record(spec, 127, started, None, (f"cannot start: {exc}",), None, False)
            lines = LogStream(log, console)
            assert proc.stdout is not None
            reader = threading.Thread(target=lines.pump, args=(proc.stdout,), daemon=True)
            reader.start()
            sampler = GpuSampler.start(proc.pid, spec.runner_env)
            try:
                status, rusage, timed_out = _wait(proc, spec.timeout_s, started, console)
            except KeyboardInterrupt:
                console.warn("interrupted: stopping the training's process group")
                _stop_group(proc, signal.SIGINT)
                sampler.stop()
                raise
            finally:
                reader.join(timeout=2.0)
            gpu = sampler.stop()
        code = os.waitstatus_to_exitcode(status)
        record = self._record(spec, code, started, rusage, lines.tail, gpu, timed_out)
        console.info(f"mlgate: training finished in {record.duration_s:.1f} s, exit code {record.exit_code}")
        return record

    def _record(
        self,
        spec: TrainSpec,
        code: int,
        started: float,
        rusage: Rusage | None,
        tail: tuple[str, ...],
        gpu: GpuTelemetry | None,
        timed_out: bool,
    ) -> RunRecord:
        signal_name = None
        if code < 0:
            signal_name = signal.Signals(-code).name
            code = 128 - code
        return RunRecord(
            command=spec.command,
            backend=self.name,
            exit_code=code,
            duration_s=time.monotonic() - started,
            cpu_s=(rusage.ru_utime + rusage.ru_stime) if rusage else None,
            peak_rss_mib=(rusage.ru_maxrss / 1024) if rusage else None,
            timed_out=timed_out,
            signal=signal_name,
            log_tail=tail,
            log_path=str(spec.log_path),
            runner=runner_info(spec.runner_env),
            gpu=gpu,
        )


def _wait(
    proc: subprocess.Popen[bytes], timeout_s: float, started: float, console: Console
) -> tuple[int, Rusage, bool]:
    """Poll the leader with wait4 until it exits or times out; returns (status, rusage, timed_out)."""
    progress = ProgressClock(console, started)
    delay = 0.005
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            _kill_leftovers(proc.pid)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, rusage, False
        now = time.monotonic()
        if now - started > timeout_s:
            console.warn(f"training timed out after {timeout_s:.0f} s: stopping its process group")
            status, rusage = _stop_group(proc, signal.SIGTERM)
            return status, rusage, True
        progress.tick(now)
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _stop_group(proc: subprocess.Popen[bytes], first: signal.Signals) -> tuple[int, Rusage]:
    """Send `first` to the whole group; SIGKILL it if the leader is still there after the grace period."""
    _signal_group(proc.pid, first)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.02)
    else:
        _signal_group(proc.pid, signal.SIGKILL)
        _, status, rusage = os.wait4(proc.pid, 0)
    _kill_leftovers(proc.pid)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return status, rusage


def _kill_leftovers(pgid: int) -> None:
    """Background children the command left behind die with it: they would hold the log pipe open."""
    _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return
