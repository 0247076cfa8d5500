"""Telemetry of a training run: the runner (OS, CPU, hosted or self-hosted) and GPUs sampled while it runs.

GPU sampling prefers NVML (`pynvml`, ~8 µs a call) and falls back to the `nvidia-smi` on the PATH mlgate was
given (~40 ms a call); with neither, or when the tool fails or prints what is not its CSV, the run is "CPU
only". The first sample is taken at once, then one every SAMPLE_EVERY_S. Memory is the peak over the samples
of the training processes' own usage (per-process, CUDA context included, summed over devices), matched
against the training's process group; other processes on the same GPUs are not counted. Utilisation is
whole-device, read only from the devices the training's processes are on: its peak and mean over the samples
that saw them; a device that answers `[N/A]` or `[Not Supported]` gives none.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.model import GpuTelemetry, RunnerInfo
from mlgate.record import Record

SAMPLE_EVERY_S = 0.5


def runner_info(env: Mapping[str, str]) -> RunnerInfo:
    """This machine, and what the CI environment says of it (GitHub's RUNNER_ENVIRONMENT, GitLab's runner)."""
    hosted: bool | None = None
    if env.get("RUNNER_ENVIRONMENT"):
        hosted = env["RUNNER_ENVIRONMENT"] == "github-hosted"
    elif env.get("CI_RUNNER_TAGS") is not None or env.get("CI_SERVER_HOST"):
        hosted = env.get("CI_SERVER_HOST") == "gitlab.com" and "saas-" in env.get("CI_RUNNER_TAGS", "")
    name = env.get("RUNNER_NAME") or env.get("CI_RUNNER_DESCRIPTION")
    return RunnerInfo(
        os=f"{platform.system()} {platform.release()}",
        cpu=cpu_model(),
        cpus=os.cpu_count() or 1,
        hosted=hosted,
        name=name,
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def group_pids(pgid: int) -> set[int]:
    """Every live process in process group `pgid` (from /proc; empty where /proc is absent)."""
    pids: set[int] = set()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 3 and int(fields[2]) == pgid:
            pids.add(int(entry.name))
    return pids


class GpuReading(Record):
    """One sample: every device's name, the training's memory on them, its busiest device's utilisation."""

    names: tuple[str, ...]
    used_mib: float
    util_pct: float | None = None  # None: none of the training's devices reports utilisation


@dataclass
class _Samples:
    names: tuple[str, ...] = ()
    peak_mib: float = 0.0
    utils: list[float] = field(default_factory=list)


Probe = Callable[[set[int]], GpuReading | None]


class GpuSampler:
    """Samples GPU memory of the process group and device utilisation in a thread until stopped."""

    def __init__(self, pgid: int, probe: Probe | None, source: str) -> None:
        self.pgid = pgid
        self.probe = probe
        self.source = source
        self.samples = _Samples()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def start(cls, pgid: int, env: Mapping[str, str]) -> GpuSampler:
        """Sample group `pgid` with NVML, else the `nvidia-smi` on `env`'s PATH, else not at all."""
        probe, source = _find_probe(env)
        sampler = cls(pgid, probe, source)
        if probe is not None:
            sampler._thread = threading.Thread(target=sampler._loop, daemon=True)
            sampler._thread.start()
        return sampler

    def _loop(self) -> None:
        # NOTE: the first sample comes at once, so a run shorter than one interval still names the GPUs.
        self.sample_once()
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.sample_once()

    def sample_once(self) -> None:
        if self.probe is None:
            return
        got = self.probe(group_pids(self.pgid) | {self.pgid})
        if got is None:
            return
        self.samples.names = got.names or self.samples.names
        self.samples.peak_mib = max(self.samples.peak_mib, got.used_mib)
        if got.used_mib > 0 and got.util_pct is not None:
            self.samples.utils.append(got.util_pct)

    def stop(self) -> GpuTelemetry | None:
        """End sampling; None means no GPU tooling answered ("CPU only")."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if self.probe is None or not self.samples.names:
            return None
        utils = self.samples.utils
        return GpuTelemetry(
            names=self.samples.names,
            peak_memory_mib=self.samples.peak_mib or None,
            peak_util_pct=max(utils) if utils else None,
            mean_util_pct=sum(utils) / len(utils) if utils else None,
            source=self.source,
        )


def _find_probe(env: Mapping[str, str]) -> tuple[Probe | None, str]:
    nvml = _nvml_probe()
    if nvml is not None:
        return nvml, "nvml"
    binary = shutil.which("nvidia-smi", path=env.get("PATH", os.defpath))
    if binary:
        return smi_probe(binary), "nvidia-smi"
    return None, "none"


def _nvml_probe() -> Probe | None:
    try:
        import pynvml  # type: ignore[import-not-found,unused-ignore]

        pynvml.nvmlInit()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception:  # no module, no driver, no device: NVML is simply not there
        return None
    if not handles:
        return None

    def probe(pids: set[int]) -> GpuReading | None:
        try:
            return _nvml_reading(pynvml, handles, pids)
        except pynvml.NVMLError:  # a device lost or reset mid-run: this sample has nothing to say
            return None

    return probe


def _nvml_reading(pynvml: Any, handles: list[Any], pids: set[int]) -> GpuReading:
    names = tuple(_text(pynvml.nvmlDeviceGetName(h)) for h in handles)
    used = 0.0
    utils: list[float] = []
    for handle in handles:
        mine = [p for p in pynvml.nvmlDeviceGetComputeRunningProcesses(handle) if p.pid in pids]
        if not mine:
            continue
        used += sum(p.usedGpuMemory or 0 for p in mine) / 2**20  # None where the driver cannot tell
        try:
            utils.append(float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu))
        except pynvml.NVMLError:  # NVML_ERROR_NOT_SUPPORTED on some boards and MIG instances
            continue
    return GpuReading(names, used, max(utils, default=None))


def _text(name: str | bytes) -> str:
    """A device name: `pynvml` before nvidia-ml-py 11.515 returned bytes."""
    return name.decode(errors="replace") if isinstance(name, bytes) else str(name)


# NOTE: `--format=csv,noheader,nounits` prints one line per row, values joined by ", ", MiB and % without
# units, and `[N/A]` (older drivers: `[Not Supported]`) for a value the device cannot give
# (https://docs.nvidia.com/deploy/nvidia-smi/). The name comes last: it is the one field that might hold ", ".
GPU_QUERY = ("--query-gpu=uuid,utilization.gpu,name", 3)
APP_QUERY = ("--query-compute-apps=pid,gpu_uuid,used_memory", 3)


def smi_probe(binary: str) -> Probe:
    """Sample with the `nvidia-smi` at `binary`: its two CSV queries, matched by device UUID."""

    def probe(pids: set[int]) -> GpuReading | None:
        try:
            devices = _smi(binary, *GPU_QUERY)
            apps = _smi(binary, *APP_QUERY)
        except (OSError, subprocess.SubprocessError):
            return None
        if not devices:
            return None
        mine = [(uuid, _number(mem)) for pid, uuid, mem in apps if pid.isdigit() and int(pid) in pids]
        used = sum(mem for _, mem in mine if mem is not None)
        busy = {uuid for uuid, _ in mine}
        utils = [u for uuid, util, _ in devices if uuid in busy and (u := _number(util)) is not None]
        return GpuReading(tuple(name for *_, name in devices), used, max(utils, default=None))

    return probe


def _smi(binary: str, query: str, width: int) -> list[list[str]]:
    """The rows of one query; a line that is not `width` values (a warning, a message) is no row."""
    done = subprocess.run(
        [binary, query, "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10
    )
    if done.returncode != 0:
        return []
    rows = [[cell.strip() for cell in line.split(",", width - 1)] for line in done.stdout.splitlines()]
    return [row for row in rows if len(row) == width and all(row)]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value >= 0 else None  # neither NaN nor negative
