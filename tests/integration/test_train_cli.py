"""`mlgate train` end to end: Ctrl-C on a real process, the run record, and the docker backend's errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import CliRunner
from tests.gitproject import GitProject

SLEEPER = """\
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
open("pids.txt", "w").write(f"{os.getpid()} {child.pid}\\n")
print("training", flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(path: Path, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().endswith("\n"):
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def test_sigint_exits_130_and_stops_the_training_group_when_interrupted(project: GitProject) -> None:
    project.commit("main", **{".mlgate.yml": f"train: {{command: {sys.executable} train.py}}\n",
                              "train_dot_py": SLEEPER})  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlgate", "train"],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        pids = [int(pid) for pid in _wait_for(project.root / "pids.txt", 30).split()]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "mlgate: interrupted" in err
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if _alive(pid)] == []


def test_run_record_is_written_when_training_succeeds(project: GitProject, cli: CliRunner) -> None:
    project.commit("main", **{".mlgate.yml": "train: {command: echo fitted}\n"})
    result = cli("train", env={"PATH": os.environ["PATH"]})
    assert result.code == 0, result.err
    record = json.loads((project.root / ".mlgate" / "run.json").read_text())
    assert (record["backend"], record["exit_code"], record["log_tail"]) == ("subprocess", 0, ["fitted"])


def test_unreachable_docker_daemon_is_exit_3_with_a_hint_when_backend_is_docker(
    project: GitProject, cli: CliRunner
) -> None:
    project.commit("main", **{".mlgate.yml": "train: {command: 'true', backend: docker, image: x:1}\n"})
    result = cli("train", env={"DOCKER_HOST": "tcp://127.0.0.1:1"})
    assert result.code == 3
    lines = result.err.splitlines()
    prefix = "mlgate: error: docker (DOCKER_HOST=tcp://127.0.0.1:1): cannot reach the Docker daemon"
    assert lines[0].startswith(prefix)
    assert lines[1].startswith("hint: check that the machine DOCKER_HOST names is up")
    assert len(lines) == 2
    assert "Traceback" not in result.err


def test_docker_backend_without_an_image_is_exit_2_naming_train_image(
    project: GitProject, cli: CliRunner
) -> None:
    project.commit("main", **{".mlgate.yml": "train: {command: 'true', backend: docker}\n"})
    result = cli("train")
    assert result.code == 2
    assert "train.image: required with `backend: docker`" in result.err


def test_the_job_token_is_masked_in_the_terminal_log_and_record_when_the_training_prints_a_copy(
    project: GitProject, cli: CliRunner
) -> None:
    canary = "ghs_CANARYtrain1234567890abcdef"
    script = "import os; print('token:', os.environ.get('HF_TOKEN'), flush=True); raise SystemExit(2)\n"
    project.commit("m", **{".mlgate.yml": f"train: {{command: {sys.executable} t.py}}\n", "t_dot_py": script})
    result = cli("train", env={"GITHUB_TOKEN": canary, "HF_TOKEN": canary})
    assert result.code == 3, result.err
    log = (project.root / ".mlgate" / "train.log").read_text()
    assert "token: ***" in log
    record = (project.root / ".mlgate" / "run.json").read_text()
    assert [text for text in (result.out, result.err, log, record) if canary in text] == []
