"""Session fixtures for the engine tests: a Docker daemon, the mlgate image built once, the demo projects.

Every engine comes from ../shared/harness/ (no container registry on these machines); a test that cannot get
one is skipped with the reason, never silently passed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.container import actionrun
from tests.fakeforge import FakeForge

ROOT = Path(__file__).resolve().parents[2]
HARNESS = Path(os.environ.get("MLGATE_HARNESS", ROOT.parent / "shared" / "harness"))
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlgate-test"
BASE_IMAGE = "mlgate-base:bookworm"
# NOTE: one daemon may serve several checkouts at once: MLGATE_TEST_IMAGE gives this one its own tag.
IMAGE = os.environ.get("MLGATE_TEST_IMAGE", "mlgate:test")


def harness(
    name: str, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run one harness script; the CompletedProcess with text output."""
    return subprocess.run(
        [str(HARNESS / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _require(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode != 0:
        pytest.skip(f"{what} failed (exit {done.returncode}): {(done.stderr or done.stdout)[-300:]}")


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[None]:
    """A Docker daemon on the default socket; one this fixture started is stopped by its PID afterwards."""
    if not (HARNESS / "ensure-docker.sh").is_file():
        pytest.skip(f"no container harness at {HARNESS}")
    done = harness("ensure-docker.sh", timeout=300)
    _require(done, "ensure-docker.sh")
    started = done.stdout.split()[1] if done.stdout.startswith("started ") else None
    yield
    if started is not None:
        os.kill(int(started), signal.SIGTERM)


@pytest.fixture(scope="session")
def mlgate_image(docker_engine: None) -> str:
    """The image built from this checkout's Dockerfile on the registry-free Debian base."""
    _require(harness("build-base-image.sh", BASE_IMAGE, str(CACHE)), "build-base-image.sh")
    done = subprocess.run(
        ["docker", "build", "-q", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "--network", "host",
         "-t", IMAGE, str(ROOT)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return IMAGE


# gitlab-ci-local's docker executor exports artifacts with rsync run in its helper image (a real runner's
# helper uploads them itself); the Debian base has no rsync, and no registry serves the default helper.
GCL_HELPER_IMAGE = "mlgate-gcl-helper:bookworm"
_GCL_HELPER = f"""\
FROM {BASE_IMAGE}
RUN apt-get update -qq \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsync >/dev/null \\
    && rm -rf /var/lib/apt/lists/*
"""


@pytest.fixture(scope="session")
def gcl_helper_image(mlgate_image: str) -> str:
    """The base image with rsync, as gitlab-ci-local's `--helper-image` (built after the base exists)."""
    done = subprocess.run(
        ["docker", "build", "-q", "--network", "host", "-t", GCL_HELPER_IMAGE, "-"],
        input=_GCL_HELPER, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    _require(done, "building the gitlab-ci-local helper image")
    return GCL_HELPER_IMAGE


def _demo(tmp_path_factory: pytest.TempPathFactory, *flags: str) -> Path:
    root = tmp_path_factory.mktemp("demo") / "project"
    done = subprocess.run(
        [sys.executable, "-m", "mlgate", "demo", "-q", "--keep", str(root), *flags],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return root


@pytest.fixture(scope="session")
def demo_passing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mlgate demo --keep`: a repo on branch demo/tune whose trained metrics pass main's gate."""
    return _demo(tmp_path_factory)


@pytest.fixture(scope="session")
def demo_failing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mlgate demo --regress --keep`: the PR branch's metrics fail the gate."""
    return _demo(tmp_path_factory, "--regress")


def copy_project(source: Path, dest: Path) -> Path:
    """A private copy of a session demo project, so that each test may write into its workspace."""
    shutil.copytree(source, dest, symlinks=True)
    return dest


@pytest.fixture(scope="session")
def ci_tools() -> Path:
    """The folder install-tools.sh fills (act, gitlab-ci-local, linters); skipped when it cannot install."""
    tools = Path(os.environ.get("MLGATE_TOOLS", Path.home() / ".cache" / "mlgate-ci" / "tools"))
    done = harness("install-tools.sh", str(tools), timeout=600)
    _require(done, "install-tools.sh")
    return tools


@pytest.fixture
def fake_forge() -> Iterator[FakeForge]:
    """The stateful fake GitHub on 127.0.0.1 with the repository; each test opens its own PR."""
    with FakeForge() as fake:
        fake.github.add_repo(actionrun.REPO)
        yield fake
