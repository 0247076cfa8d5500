"""Bad input inside the container action: no token, a token without write permissions, the docker backend
without the Docker socket, a shallow checkout. Each one line on stderr with a hint, never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.container.actionrun import PR, REPO, ActionResult, bot_comments, open_pr, run_action
from tests.container.conftest import BASE_IMAGE, copy_project
from tests.fakeforge import FakeForge

pytestmark = pytest.mark.container
PERMISSIONS_YAML = "`permissions: {pull-requests: write, checks: write, statuses: write, contents: write}`"


def _one_error(done: ActionResult) -> str:
    """The `mlgate: error:` line; asserts there is exactly one and no traceback."""
    errors = [line for line in done.stderr.splitlines() if line.startswith("mlgate: error:")]
    assert len(errors) == 1, done.tail
    assert "Traceback" not in done.stderr
    return errors[0]


def test_blank_token_warns_with_permissions_yaml_and_exit_follows_verdict_when_pr_fails(
    mlgate_image: str, demo_failing: Path, fake_forge: FakeForge, tmp_path: Path
) -> None:
    workspace = copy_project(demo_failing, tmp_path / "ws")
    job = open_pr(fake_forge, workspace)
    inputs = {"token": "", "extra-args": "--no-train"}
    done = run_action(mlgate_image, workspace, tmp_path / "runner1", job, inputs)
    assert done.returncode == 1, done.tail
    assert "mlgate: warning: publishing: no token to publish to github" in done.stderr
    assert "the action: its `token` input" in done.stderr
    assert PERMISSIONS_YAML in done.stderr
    assert done.outputs["verdict"] == "fail", "the verdict is still written"
    assert fake_forge.log == [], "nothing is sent without a token"
    required = run_action(
        mlgate_image, workspace, tmp_path / "runner2", job, {**inputs, "require-publish": "true"}
    )
    assert required.returncode == 3, required.tail
    assert _one_error(required).startswith("mlgate: error: --require-publish: publishing: no token")


def test_read_only_token_warns_with_permissions_yaml_when_job_cannot_write(
    mlgate_image: str, demo_passing: Path, fake_forge: FakeForge, tmp_path: Path
) -> None:
    workspace = copy_project(demo_passing, tmp_path / "ws")
    job = open_pr(fake_forge, workspace, token=FakeForge.GITHUB_READONLY_TOKEN)
    done = run_action(mlgate_image, workspace, tmp_path / "runner", job, {"extra-args": "--no-train"})
    assert done.returncode == 0, done.tail
    warning = next(line for line in done.stderr.splitlines() if "comment failed" in line)
    assert "HTTP 403" in warning
    assert PERMISSIONS_YAML in warning
    assert bot_comments(fake_forge) == []
    assert fake_forge.github.repos[REPO].statuses == []
    assert done.outputs["comment-url"] == ""


def test_docker_backend_exits_3_with_hint_when_no_docker_socket_is_mounted(
    mlgate_image: str, demo_passing: Path, fake_forge: FakeForge, tmp_path: Path
) -> None:
    workspace = copy_project(demo_passing, tmp_path / "ws")
    job = open_pr(fake_forge, workspace)
    inputs = {"backend": "docker", "image": BASE_IMAGE, "train-command": "python3 train.py"}
    done = run_action(mlgate_image, workspace, tmp_path / "runner", job, inputs, socket=False)
    assert done.returncode == 3, done.tail
    assert "no Docker socket at /var/run/docker.sock" in _one_error(done)
    assert "hint: mount the runner's Docker socket into this container" in done.stderr


def test_shallow_checkout_exits_2_with_fetch_depth_hint_when_base_branch_is_missing(
    mlgate_image: str, demo_passing: Path, fake_forge: FakeForge, tmp_path: Path
) -> None:
    full = copy_project(demo_passing, tmp_path / "full")
    job = open_pr(fake_forge, full)
    subprocess.run(["git", "-C", str(full), "branch", f"pull/{PR}/merge"], check=True)
    # actions/checkout's default: the merge commit alone; its origin is not reachable from the container
    workspace = tmp_path / "ws"
    source = f"file://{full}"
    clone = ["git", "clone", "-q", "--depth", "1", "--branch", f"pull/{PR}/merge", source, str(workspace)]
    subprocess.run(clone, check=True)
    (workspace / "metrics.json").write_bytes((full / "metrics.json").read_bytes())
    done = run_action(mlgate_image, workspace, tmp_path / "runner", job, {"extra-args": "--no-train"})
    assert done.returncode == 2, done.tail
    assert "baseline.branch main" in _one_error(done)
    assert "fetch-depth: 0" in done.stderr


def test_an_unknown_input_exits_2_naming_it_when_the_step_has_a_typo(
    mlgate_image: str, demo_passing: Path, fake_forge: FakeForge, tmp_path: Path
) -> None:
    workspace = copy_project(demo_passing, tmp_path / "ws")
    job = open_pr(fake_forge, workspace)
    done = run_action(
        mlgate_image, workspace, tmp_path / "runner", job, {"train_command": "python3 train.py"}
    )
    assert done.returncode == 2, done.tail
    assert "action input train_command: not an input of mlgate's action" in _one_error(done)
    assert fake_forge.writes() == []
