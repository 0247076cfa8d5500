"""The docker backend: containers on a real engine (marked `container`), and its pure path/env/GPU logic.

The engine and image come from the `docker_image` fixture (tests/unit/conftest.py). Without an engine the
container tests skip, saying why.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mlgate.config import TrainConfig
from mlgate.console import Console
from mlgate.errors import ConfigError, ExitCode, TrainingError
from mlgate.model import RunRecord
from mlgate.training import TrainSpec, check_run
from mlgate.training.backends import backend_for
from mlgate.training.docker import LABEL, DockerBackend, container_env, container_user, device_requests
from mlgate.training.dockerhost import host_path, in_container, own_container_id


def _spec(tmp_path: Path, command: str, **overrides: Any) -> TrainSpec:
    fields: dict[str, Any] = {
        "command": command,
        "cwd": tmp_path,
        "env": {"PATH": "/host/only/bin", "SEED": "7", "GITHUB_TOKEN": "ghs_secret"},
        "timeout_s": 60.0,
        "log_path": tmp_path / ".mlgate" / "train.log",
    }
    fields.update(overrides)
    return TrainSpec(**fields)


def _run(image: str, spec: TrainSpec, env: dict[str, str] | None = None) -> tuple[RunRecord, Console]:
    console = Console(out=io.StringIO(), err=io.StringIO())
    return DockerBackend(image, env or {}, grace_s=1).run(spec, console), console


def _leftover_containers() -> list[Any]:
    from docker.client import DockerClient

    client = DockerClient.from_env()
    try:
        return list(client.containers.list(all=True, filters={"label": LABEL}))
    finally:
        client.close()


@pytest.mark.container
def test_logs_stream_to_console_and_file_when_the_command_succeeds(docker_image: str, tmp_path: Path) -> None:
    record, console = _run(docker_image, _spec(tmp_path, "python3 -c \"print('epoch 1')\"; printf 'last'"))
    assert record.ok, record.log_tail
    assert record.backend == "docker"
    assert record.log_tail == ("epoch 1", "last")
    assert (tmp_path / ".mlgate" / "train.log").read_text() == "epoch 1\nlast\n"
    assert "  | epoch 1" in console.err.getvalue()  # type: ignore[attr-defined]
    check_run(record)
    assert _leftover_containers() == []


@pytest.mark.container
def test_repo_files_are_visible_and_outputs_written_back_when_training(
    docker_image: str, tmp_path: Path
) -> None:
    (tmp_path / "data.txt").write_text("3\n")
    (tmp_path / "train.py").write_text(
        "import json, os\n"
        "n = int(open('data.txt').read())\n"
        "json.dump({'acc': n / 4, 'cwd': os.getcwd()}, open('metrics.json', 'w'))\n"
    )
    record, _ = _run(docker_image, _spec(tmp_path, "python3 train.py"))
    assert record.ok, record.log_tail
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written == {"acc": 0.75, "cwd": str(tmp_path.resolve())}


@pytest.mark.container
def test_env_is_passed_on_without_host_paths_or_tokens_when_training(
    docker_image: str, tmp_path: Path
) -> None:
    command = "echo seed=$SEED; echo token=${GITHUB_TOKEN:-unset}; command -v python3"
    record, _ = _run(docker_image, _spec(tmp_path, command))
    assert record.ok, record.log_tail
    assert record.log_tail == ("seed=7", "token=unset", "/usr/bin/python3")


@pytest.mark.container
def test_nonzero_exit_is_a_training_error_when_the_command_fails(docker_image: str, tmp_path: Path) -> None:
    record, _ = _run(docker_image, _spec(tmp_path, "echo boom; exit 3"))
    assert (record.exit_code, record.log_tail) == (3, ("boom",))
    with pytest.raises(TrainingError) as info:
        check_run(record)
    assert info.value.exit_code is ExitCode.RUN_FAILED
    assert "exited with code 3" in str(info.value)


@pytest.mark.container
def test_kill_by_sigkill_is_named_137_when_the_process_dies(docker_image: str, tmp_path: Path) -> None:
    record, _ = _run(docker_image, _spec(tmp_path, "kill -9 $$"))
    assert (record.exit_code, record.signal) == (137, "SIGKILL")
    with pytest.raises(TrainingError, match="137"):
        check_run(record)


@pytest.mark.container
def test_timeout_stops_and_removes_the_container_when_training_runs_too_long(
    docker_image: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    record, console = _run(docker_image, _spec(tmp_path, "echo started; sleep 60", timeout_s=1.0))
    assert record.timed_out
    assert time.monotonic() - started < 20
    assert "timed out" in console.err.getvalue()  # type: ignore[attr-defined]
    assert record.log_tail == ("started",)
    assert _leftover_containers() == []


@pytest.mark.container
def test_ctrl_c_stops_the_container_and_is_reraised_when_interrupted(
    docker_image: str, tmp_path: Path
) -> None:
    timer = threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            _run(docker_image, _spec(tmp_path, "sleep 60"))
    finally:
        timer.cancel()
    assert _leftover_containers() == []


@pytest.mark.container
def test_missing_image_is_a_clear_error_when_it_cannot_be_pulled(docker_image: str, tmp_path: Path) -> None:
    with pytest.raises(TrainingError) as info:
        _run("127.0.0.1:1/mlgate/no-such-image:never", _spec(tmp_path, "true"))
    assert info.value.exit_code is ExitCode.RUN_FAILED
    assert "not present on the Docker host and the pull failed" in info.value.what
    assert info.value.hint is not None
    assert "docker build" in info.value.hint


@pytest.mark.container
def test_gpu_request_is_a_clear_error_when_the_host_has_no_gpu(docker_image: str, tmp_path: Path) -> None:
    if Path("/usr/bin/nvidia-container-runtime").exists():
        pytest.skip("this Docker host has the NVIDIA runtime: a GPU request would succeed")
    with pytest.raises(TrainingError) as info:
        _run(docker_image, _spec(tmp_path, "true", gpus="all"))
    assert info.value.where == "train.gpus all"
    assert "no usable GPU" in info.value.what
    assert _leftover_containers() == []


@pytest.mark.container
def test_engine_refusal_is_a_training_error_when_the_work_tree_is_not_on_the_host(
    docker_image: str, tmp_path: Path
) -> None:
    spec = _spec(tmp_path / "absent", "true", log_path=tmp_path / "train.log")
    with pytest.raises(TrainingError) as info:
        _run(docker_image, spec)
    assert info.value.exit_code is ExitCode.RUN_FAILED
    assert "bind source path does not exist" in info.value.what
    assert _leftover_containers() == []


def test_unreachable_daemon_is_exit_3_with_a_hint_when_docker_host_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(TrainingError) as info:
        _run("any:image", _spec(tmp_path, "true"), env={"DOCKER_HOST": "tcp://127.0.0.1:1"})
    assert info.value.exit_code is ExitCode.RUN_FAILED
    assert info.value.where == "docker (DOCKER_HOST=tcp://127.0.0.1:1)"
    assert "cannot reach the Docker daemon" in info.value.what
    assert info.value.hint is not None
    assert "DOCKER_HOST" in info.value.hint
    assert "docker -H" in info.value.hint


def test_backend_is_chosen_from_config_when_backend_is_docker() -> None:
    backend = backend_for(TrainConfig(backend="docker", image="trainer:1"), {"DOCKER_HOST": "ssh://gpu"})
    assert isinstance(backend, DockerBackend)
    assert (backend.image, backend.env["DOCKER_HOST"]) == ("trainer:1", "ssh://gpu")


def test_config_error_names_train_image_when_it_is_missing() -> None:
    with pytest.raises(ConfigError) as info:
        DockerBackend.from_config(TrainConfig(backend="docker"), {})
    assert "train.image" in info.value.what


def test_device_requests_follow_gpus_when_all_none_or_ids() -> None:
    assert device_requests("none") == []
    assert device_requests("all") == [{"Driver": "", "Count": -1, "Capabilities": [["gpu"]]}]
    assert device_requests("0,1") == [{"Driver": "", "DeviceIDs": ["0", "1"], "Capabilities": [["gpu"]]}]


def test_container_env_drops_host_paths_and_tokens_when_passing_env_on() -> None:
    env = {"PATH": "/x", "HOME": "/root", "GITHUB_TOKEN": "t", "SEED": "1", "CI": "true"}
    assert container_env(env) == {"SEED": "1", "CI": "true"}


def test_container_user_is_ours_when_not_root() -> None:
    assert container_user(0, 0) is None
    assert container_user(1001, 127) == "1001:127"


MOUNTS = [
    {"Type": "bind", "Source": "/home/runner/work/proj", "Destination": "/github/workspace"},
    {"Type": "bind", "Source": "/home/runner/work/_temp/_github_home", "Destination": "/github/home"},
    {"Type": "bind", "Source": "/mnt/data", "Destination": "/github/workspace/data"},
    {"Type": "volume", "Name": "cache", "Source": "", "Destination": "/cache"},
]


def test_host_path_uses_the_deepest_mount_when_mlgate_runs_in_a_container() -> None:
    assert host_path("/github/workspace", MOUNTS) == "/home/runner/work/proj"
    assert host_path("/github/workspace/sub/dir", MOUNTS) == "/home/runner/work/proj/sub/dir"
    assert host_path("/github/workspace/data/x", MOUNTS) == "/mnt/data/x"
    assert host_path("/github/workspacex", MOUNTS) is None
    assert host_path("/cache/a", MOUNTS) is None
    assert host_path("/tmp/repo", MOUNTS) is None


CID = "4f" * 32
MOUNTINFO = (
    "611 590 0:52 / / rw,relatime master:1 - overlay overlay rw\n"
    f"630 611 8:1 /var/lib/docker/containers/{CID}/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw\n"
)


def test_own_container_id_comes_from_mountinfo_else_hostname() -> None:
    assert own_container_id(MOUNTINFO, "runner-host") == CID
    assert own_container_id("611 590 0:52 / / rw - overlay overlay rw\n", "0123456789ab") == "0123456789ab"
    assert own_container_id("", "my-laptop") is None


def test_in_container_needs_the_socket_and_a_container_marker(tmp_path: Path) -> None:
    assert not in_container(tmp_path)
    (tmp_path / "var/run").mkdir(parents=True)
    (tmp_path / "var/run/docker.sock").touch()
    assert not in_container(tmp_path)
    (tmp_path / "proc/1").mkdir(parents=True)
    (tmp_path / "proc/1/cgroup").write_text("0::/system.slice/docker-abc.scope\n")
    assert in_container(tmp_path)
    (tmp_path / "proc/1/cgroup").write_text("0::/init.scope\n")
    assert not in_container(tmp_path)
    (tmp_path / ".dockerenv").touch()
    assert in_container(tmp_path)
