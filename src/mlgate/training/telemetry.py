"""Telemetry of a training run: the runner (OS, CPU, hosted or self-hosted) and GPUs sampled while it runs.

GPU sampling prefers NVML (`pynvml`, ~8 µs a call) and falls back to `nvidia-smi` (~40 ms a call); with
neither, the run is "CPU only". Memory is the peak of the training processes' own usage (per-process, CUDA
context included), matched against the training's process group; utilisation is whole-device.
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

from mlgate.model import GpuTelemetry, RunnerInfo

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


@dataclass
class _Samples:
    names: tuple[str, ...] = ()
    peak_mib: float = 0.0
    utils: list[float] = field(default_factory=list)


Probe = Callable[[set[int]], tuple[tuple[str, ...], float, float] | None]


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
    def start(cls, pgid: int) -> GpuSampler:
        probe, source = _find_probe()
        sampler = cls(pgid, probe, source)
        if probe is not None:
            sampler._thread = threading.Thread(target=sampler._loop, daemon=True)
            sampler._thread.start()
        return sampler

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.sample_once()

    def sample_once(self) -> None:
        if self.probe is None:
            return
        got = self.probe(group_pids(self.pgid) | {self.pgid})
        if got is None:
            return
        names, used_mib, util = got
        self.samples.names = names or self.samples.names
        self.samples.peak_mib = max(self.samples.peak_mib, used_mib)
        if used_mib > 0:
            self.samples.utils.append(util)

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


def _find_probe() -> tuple[Probe | None, str]:
    nvml = _nvml_probe()
    if nvml is not None:
        return nvml, "nvml"
    if shutil.which("nvidia-smi"):
        return _smi_probe, "nvidia-smi"
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

    def probe(pids: set[int]) -> tuple[tuple[str, ...], float, float]:
        names = tuple(str(pynvml.nvmlDeviceGetName(h)) for h in handles)
        used = 0.0
        util = 0.0
        for handle in handles:
            for proc in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
                if proc.pid in pids and proc.usedGpuMemory:
                    used += proc.usedGpuMemory / 2**20
            util = max(util, float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu))
        return names, used, util

    return probe


def _smi(*query: str) -> list[list[str]]:
    done = subprocess.run(
        ["nvidia-smi", *query, "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10
    )
    if done.returncode != 0:
        return []
    return [[cell.strip() for cell in line.split(",")] for line in done.stdout.splitlines() if line.strip()]


def _smi_probe(pids: set[int]) -> tuple[tuple[str, ...], float, float] | None:
    try:
        devices = _smi("--query-gpu=name,utilization.gpu")
        apps = _smi("--query-compute-apps=pid,used_memory")
    except (OSError, subprocess.SubprocessError):
        return None
    if not devices:
        return None
    used = sum(float(mem) for pid, mem in apps if pid.isdigit() and int(pid) in pids and _is_num(mem))
    util = max((float(u) for _, u in devices if _is_num(u)), default=0.0)
    return tuple(name for name, _ in devices), used, util


def _is_num(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
