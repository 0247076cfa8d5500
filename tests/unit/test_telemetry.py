"""GPU telemetry through `nvidia-smi`, end to end on a machine with no GPU, with a stand-in nvidia-smi.

The stand-in (tests/standin_smi.py) answers nvidia-smi's two CSV queries for two NVIDIA H200s and the
processes of a real training run by the subprocess backend. It checks parsing, process matching and the
report's telemetry line; it is no GPU: the real GPU test in test_training.py still needs one.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from mlgate.console import Console
from mlgate.model import Comparison, GateResult, Outcome, RunRecord
from mlgate.report import ReportInput, render_markdown
from mlgate.training import TrainSpec
from mlgate.training.subprocess import SubprocessBackend
from mlgate.training.telemetry import _nvml_probe
from tests.standin_smi import TRAIN_SCRIPT, StandInSmi, h200s, training_apps

pytestmark = pytest.mark.skipif(
    _nvml_probe() is not None, reason="NVML answers here, so the sampler never asks nvidia-smi"
)


def train_with(tmp_path: Path, **scenario: Any) -> tuple[RunRecord, str]:
    """Run TRAIN_SCRIPT with the stand-in first on mlgate's PATH; the record and what mlgate printed."""
    work = tmp_path / "work"
    work.mkdir()
    smi = StandInSmi.install(tmp_path, work, **scenario)
    (work / "train.py").write_text(TRAIN_SCRIPT)
    err = io.StringIO()
    env = {"PATH": smi.path()}
    spec = TrainSpec(
        f"{sys.executable} train.py {smi.seen}", work, env, 60.0, work / "train.log", runner_env=env
    )
    record = SubprocessBackend().run(spec, Console(out=io.StringIO(), err=err))
    assert record.ok, record.log_tail
    return record, err.getvalue()


def gpu_line(record: RunRecord) -> str:
    """The report's GPU line for this run."""
    inp = ReportInput("Model", GateResult((), Outcome.PASS), Comparison((), head_sha="ab" * 20), run=record)
    return next(line for line in render_markdown(inp).splitlines() if line.startswith("- GPU:"))


def test_smi_gives_model_count_peak_memory_and_utilisation_of_the_training_when_it_runs(
    tmp_path: Path,
) -> None:
    record, _ = train_with(tmp_path, gpus=h200s(), apps=training_apps())
    gpu = record.gpu
    assert gpu is not None
    assert gpu.names == ("NVIDIA H200", "NVIDIA H200")
    assert gpu.source == "nvidia-smi"
    assert gpu.peak_memory_mib == 3072 + 512, "the peak of leader + child, not their last 1,536 + 512"
    assert gpu.peak_util_pct == 87, "device 1 is at 100 % for another process: not the training's"
    assert gpu.mean_util_pct == pytest.approx((10 + 87 + 40 + 40) / 4)
    assert gpu_line(record) == "- GPU: `NVIDIA H200 × 2 · peak memory 3.5 GiB · peak utilisation 87 %`"


def test_smi_sums_memory_over_devices_and_shows_no_utilisation_when_the_driver_says_na(
    tmp_path: Path,
) -> None:
    record, _ = train_with(tmp_path, gpus=h200s("[N/A]", "[N/A]"), apps=training_apps(child_gpu=1))
    assert record.gpu is not None
    assert record.gpu.peak_memory_mib == 3072 + 512
    assert (record.gpu.peak_util_pct, record.gpu.mean_util_pct) == (None, None)
    assert gpu_line(record) == "- GPU: `NVIDIA H200 × 2 · peak memory 3.5 GiB`"


def test_smi_reports_the_gpus_without_memory_when_the_training_never_uses_them(tmp_path: Path) -> None:
    record, _ = train_with(tmp_path, gpus=h200s(), apps=[{"pid": os.getpid(), "gpu": 0, "mib": 71680}])
    assert record.gpu is not None
    assert (record.gpu.peak_memory_mib, record.gpu.peak_util_pct) == (None, None)
    assert gpu_line(record) == "- GPU: `NVIDIA H200 × 2`"


@pytest.mark.parametrize("mode", ["fail", "garbage"])
def test_smi_that_fails_or_prints_garbage_is_cpu_only_without_a_traceback(tmp_path: Path, mode: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    smi = StandInSmi.install(tmp_path, work, mode=mode, gpus=h200s(), apps=training_apps())
    err = io.StringIO()
    env = {"PATH": smi.path()}
    script = "import time; time.sleep(1.2); print('trained')"
    spec = TrainSpec(f'{sys.executable} -c "{script}"', work, env, 30.0, work / "train.log", runner_env=env)
    record = SubprocessBackend().run(spec, Console(out=io.StringIO(), err=err))
    assert record.ok
    assert record.gpu is None
    assert gpu_line(record) == "- GPU: CPU only"
    assert "Traceback" not in err.getvalue()


def test_sampler_names_the_gpus_when_the_training_ends_before_the_first_interval(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    smi = StandInSmi.install(tmp_path, work, gpus=h200s(), apps=training_apps())
    env = {"PATH": smi.path()}
    spec = TrainSpec("true", work, env, 30.0, work / "train.log", runner_env=env)
    record = SubprocessBackend().run(spec, Console(out=io.StringIO(), err=io.StringIO()))
    assert record.gpu is not None
    assert record.gpu.names == ("NVIDIA H200", "NVIDIA H200")
