"""Fixtures of the unit tests that need a real Docker engine (marked `container`).

The engine comes from `../shared/harness/ensure-docker.sh` where that exists (stopped again only if this
session started it) and the image from `build-base-image.sh` (no registry on these machines); elsewhere a
running engine and `python:3.11-slim`. Without an engine the container tests skip, saying why. `ssh_server`
puts a throwaway sshd in front of that engine (ssh:// to it); without OpenSSH its tests skip, saying why.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import sshd
from tests.sshd import SshServer

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT.parent / "shared" / "harness"
LOCAL_IMAGE = "mlgate-base:bookworm"


def _engine_answers() -> bool:
    """Whether a Docker daemon answers (asked through the CLI: a failed SDK probe leaks its socket)."""
    try:
        done = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                              capture_output=True, text=True, timeout=20)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "no output"


def _start_engine() -> int | None:
    """The PID of a dockerd this session started, or None when one was already running."""
    if _engine_answers():
        return None
    if not (HARNESS / "ensure-docker.sh").exists():
        pytest.skip(
            "no Docker engine answers and ../shared/harness/ensure-docker.sh is not here to start one"
        )
    done = subprocess.run([HARNESS / "ensure-docker.sh"], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"Docker cannot run here: {_last_line(done.stderr)}")
    first = done.stdout.split()
    return int(first[1]) if first[:1] == ["started"] else None


def _base_image() -> str:
    if not (HARNESS / "build-base-image.sh").exists():
        return "python:3.11-slim"
    done = subprocess.run(
        [HARNESS / "build-base-image.sh", LOCAL_IMAGE, "/tmp/mlgate-base-cache"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot build the base image {LOCAL_IMAGE}: {_last_line(done.stdout + done.stderr)}")
    return LOCAL_IMAGE


@pytest.fixture(scope="session")
def docker_image() -> Iterator[str]:
    """An image with python3 on a running engine; the engine is stopped afterwards only if we started it."""
    started = _start_engine()
    try:
        yield _base_image()
    finally:
        if started is not None:
            os.kill(started, signal.SIGTERM)


@pytest.fixture
def ssh_server(docker_image: str, tmp_path: Path) -> Iterator[SshServer]:
    """A throwaway sshd on 127.0.0.1 in front of the local engine, reached as `ssh://ALIAS` (tests.sshd)."""
    why = sshd.missing()
    if why:
        pytest.skip(why)
    with sshd.running_sshd(tmp_path / "sshd") as server:
        yield server
