"""The image run exactly as GitHub runs a `runs: using: docker` action (run-container-action.sh)."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.container.conftest import copy_project, harness

pytestmark = pytest.mark.container
COLD_START_BUDGET_S = 1.5


def run_action(image: str, workspace: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return harness("run-container-action.sh", image, str(workspace), *args, env={"RUNNER_TEMP_OUT": str(out)})


def test_version_answers_within_budget_when_container_starts_cold(mlgate_image: str) -> None:
    timings = []
    for _ in range(2):
        started = time.monotonic()
        done = subprocess.run(
            ["docker", "run", "--rm", mlgate_image, "--version"], capture_output=True, text=True, check=False
        )
        timings.append(time.monotonic() - started)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("mlgate ")
    print(f"docker run {mlgate_image} --version: {min(timings):.2f} s (best of {len(timings)})")
    assert min(timings) <= COLD_START_BUDGET_S


def test_dry_run_passes_and_writes_report_when_demo_pr_improves(
    mlgate_image: str, demo_passing: Path, tmp_path: Path
) -> None:
    workspace = copy_project(demo_passing, tmp_path / "ws")
    # the empty arguments are what a blank action input becomes: the entrypoint must drop them
    done = run_action(mlgate_image, workspace, tmp_path / "out", "run", "", "--dry-run", "", "--no-train")
    assert done.returncode == 0, done.stderr
    assert re.search(r"mlgate: (pass|warn): 0 failing", done.stdout), done.stdout
    assert (workspace / "mlgate-report" / "report.md").stat().st_size > 0


def test_exit_code_is_one_when_demo_pr_regresses(
    mlgate_image: str, demo_failing: Path, tmp_path: Path
) -> None:
    workspace = copy_project(demo_failing, tmp_path / "ws")
    done = run_action(mlgate_image, workspace, tmp_path / "out", "run", "--dry-run", "--no-train")
    assert done.returncode == 1, done.stderr
    assert "mlgate: fail" in done.stdout


def test_outputs_and_step_summary_are_written_when_gate_runs(
    mlgate_image: str, demo_failing: Path, tmp_path: Path
) -> None:
    workspace = copy_project(demo_failing, tmp_path / "ws")
    done = run_action(mlgate_image, workspace, tmp_path / "out", "run", "--dry-run", "--no-train")
    assert done.returncode == 1, done.stderr
    output = (tmp_path / "out" / "output").read_text()
    assert "verdict=fail" in output
    assert "report-path=" in output
    assert "eval.accuracy" in (tmp_path / "out" / "step_summary").read_text()


def test_exit_code_is_two_with_hint_when_workspace_is_not_a_git_repo(
    mlgate_image: str, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    done = run_action(mlgate_image, workspace, tmp_path / "out", "run", "--dry-run")
    assert done.returncode == 2, done.stderr
    assert "not a git repository" in done.stderr
    assert "hint:" in done.stderr
    assert "Traceback" not in done.stderr


def test_mlgate_args_are_appended_when_extra_args_input_is_set(
    mlgate_image: str, demo_passing: Path, tmp_path: Path
) -> None:
    workspace = copy_project(demo_passing, tmp_path / "ws")
    done = subprocess.run(
        ["docker", "run", "--rm", "-v", f"{workspace}:/ws", "-w", "/ws",
         "-e", "MLGATE_ARGS=--no-train -o alt", "-e", "MLGATE_TRAIN__BACKEND=",
         mlgate_image, "run", "--dry-run"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (workspace / "alt" / "report.md").is_file()
