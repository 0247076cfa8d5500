"""A real Ray cluster on 127.0.0.1 for the tests: a cached venv with ray[default] + scikit-learn, a head node.

A test module wraps `running_cluster()` in a session fixture. The venv lives in
~/.cache/mlgate-test/ray-venv and is reused while its `.mlgate-ready` marker is there (a first install takes
about a minute); where it cannot be made, the tests skip with the reason. `ray start` runs in a session of
its own, so every daemon it leaves behind shares its process group: the cluster is stopped with killpg on
that group, by its id, never with `ray stop` (which would stop every Ray on the machine).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

VENV = Path.home() / ".cache" / "mlgate-test" / "ray-venv"
READY = VENV / ".mlgate-ready"
INSTALL_TIMEOUT_S = 900


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ray_venv() -> Path:
    """The venv's bin folder, made on first use; pytest.skip with the reason when that fails."""
    if READY.exists():
        return VENV / "bin"
    shutil.rmtree(VENV, ignore_errors=True)
    try:
        venv.create(VENV, with_pip=True)
        done = subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "-q", "ray[default]", "scikit-learn"],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot make the Ray test venv in {VENV}: {exc}")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"cannot install ray[default] into {VENV}: {last}")
    READY.write_text("ok\n")
    return VENV / "bin"


@dataclass
class RayCluster:
    """A running cluster: its dashboard URL, GCS port, and the process groups of its nodes."""

    bin: Path
    temp_dir: Path
    url: str
    gcs_port: int
    groups: list[int] = field(default_factory=list)
    nodes_with: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        path = f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "PATH": path, "RAY_USAGE_STATS_ENABLED": "0", "VIRTUAL_ENV": str(VENV)}

    def start(self, *args: str) -> None:
        """`ray start ARGS` in a new session; its output goes to a file (its daemons keep their fds)."""
        log = self.temp_dir / f"ray-start-{len(self.groups)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [str(self.bin / "ray"), "start", *args, "--disable-usage-stats",
                 "--node-ip-address=127.0.0.1", f"--temp-dir={self.temp_dir}",
                 f"--dashboard-agent-listen-port={free_port()}"],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        self.groups.append(proc.pid)
        if proc.wait(timeout=120) != 0:
            self.stop()
            pytest.skip(f"`ray start` failed: {log.read_text().strip().splitlines()[-1:]}")

    def node_with(self, resource: str) -> str:
        """Start (once) a second node that has one unit of `resource`; returns its node id."""
        if resource not in self.nodes_with:
            resources = json.dumps({resource: 1})
            self.start(f"--address=127.0.0.1:{self.gcs_port}", "--num-cpus=1", f"--resources={resources}")
            self.nodes_with[resource] = self._wait_for_node(resource)
        return self.nodes_with[resource]

    def nodes(self) -> list[dict[str, object]]:
        body = httpx.get(f"{self.url}/api/v0/nodes", timeout=10).json()
        return [n for n in body["data"]["result"]["result"] if n["state"] == "ALIVE"]

    def job(self, job_id: str) -> dict[str, object]:
        body: dict[str, object] = httpx.get(f"{self.url}/api/jobs/{job_id}", timeout=10).json()
        return body

    def job_ids(self) -> set[str]:
        return {str(job["submission_id"]) for job in httpx.get(f"{self.url}/api/jobs/", timeout=10).json()}

    def _wait_for_node(self, resource: str) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for node in self.nodes():
                if resource in node["resources_total"]:  # type: ignore[operator]
                    return str(node["node_id"])
            time.sleep(0.2)
        pytest.fail(f"the node with {resource!r} never joined the cluster")

    def stop(self) -> None:
        """SIGTERM every node's process group, SIGKILL what is left after 3 s."""
        for group in self.groups:
            _signal_group(group, signal.SIGTERM)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(_signal_group(g, 0) for g in self.groups):
            time.sleep(0.1)
        for group in self.groups:
            _signal_group(group, signal.SIGKILL)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _signal_group(pgid: int, sig: int) -> bool:
    """Signal the group (0: only look); False when it is gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _wait_for_dashboard(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/version", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.skip(f"the Ray dashboard at {url} never answered")


@contextmanager
def running_cluster() -> Iterator[RayCluster]:
    """One head node (1 CPU); stopped by process group at the end. Skips the tests where it cannot start."""
    if sys.platform != "linux":
        pytest.skip("the Ray test cluster runs on Linux only")
    bin_dir = ray_venv()
    port, gcs_port = free_port(), free_port()
    cluster = RayCluster(
        bin_dir,
        Path(tempfile.mkdtemp(prefix="mlgate-ray-", dir="/tmp")),
        f"http://127.0.0.1:{port}",
        gcs_port,
    )
    cluster.start("--head", "--num-cpus=1", "--dashboard-host=127.0.0.1", f"--dashboard-port={port}",
                  f"--port={gcs_port}", f"--ray-client-server-port={free_port()}")  # fmt: skip
    try:
        _wait_for_dashboard(cluster.url)
        yield cluster
    finally:
        cluster.stop()
