"""`mlgate run` and `mlgate train` on a GPU runner, played by a stand-in nvidia-smi on mlgate's PATH.

The stand-in (tests/standin_smi.py) checks that nvidia-smi's CSV reaches the run record and the report's
telemetry section; it is no GPU: the real GPU test in tests/unit/test_training.py still needs one.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from mlgate.training.telemetry import _nvml_probe
from tests.conftest import CliRunner
from tests.gitproject import GitProject
from tests.standin_smi import TRAIN_SCRIPT, StandInSmi, h200s, training_apps

pytestmark = pytest.mark.skipif(
    _nvml_probe() is not None, reason="NVML answers here, so the sampler never asks nvidia-smi"
)

METRICS = 'import json; json.dump({"acc": 0.9}, open("metrics.json", "w"))\n'


def gpu_project(project: GitProject, tmp_path: Path, **scenario: Any) -> StandInSmi:
    smi = StandInSmi.install(tmp_path / "smi", project.root, **scenario)
    config = f"train: {{command: {sys.executable} train.py {smi.seen}}}\nmetrics: [metrics.json]\n"
    project.write(".gitignore", "metrics.json\nmlgate-report/\n.mlgate/\n")
    project.commit("model", **{".mlgate.yml": config, "train_dot_py": TRAIN_SCRIPT + METRICS})
    return smi


def test_report_shows_the_gpus_and_the_trainings_peak_memory_when_nvidia_smi_answers(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    smi = gpu_project(project, tmp_path, gpus=h200s(), apps=training_apps())
    result = cli("run", env={"PATH": smi.path()})
    assert result.code == 0, result.err
    report = (project.root / "mlgate-report" / "report.md").read_text()
    assert "- GPU: `NVIDIA H200 × 2 · peak memory 3.5 GiB · peak utilisation 87 %`" in report
    record = json.loads((project.root / ".mlgate" / "run.json").read_text())
    assert record["gpu"]["names"] == ["NVIDIA H200", "NVIDIA H200"]
    assert record["gpu"]["peak_memory_mib"] == 3584, "another process's 70 GiB on device 1 is not counted"
    assert record["gpu"]["source"] == "nvidia-smi"


def test_train_records_cpu_only_without_a_traceback_when_nvidia_smi_fails(
    project: GitProject, cli: CliRunner, tmp_path: Path
) -> None:
    smi = gpu_project(project, tmp_path, mode="fail", gpus=h200s(), apps=training_apps())
    smi.seen.write_text("4")  # nothing lists the training, so it need not wait for the stand-in
    result = cli("train", env={"PATH": smi.path()})
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    record = json.loads((project.root / ".mlgate" / "run.json").read_text())
    assert record["gpu"] is None
    assert os.path.exists(project.root / "metrics.json")
