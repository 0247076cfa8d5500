"""The `docker` backend: the training command in a container of `train.image`, with the work tree in it.

The command runs as `/bin/sh -c COMMAND` under the engine's init (so SIGTERM reaches it), with the environment
passed on (less this machine's own paths and the forge tokens), GPUs through `device_requests`. Its log is
streamed line by line like the subprocess backend's. A timeout or Ctrl-C stops the container; it is always
removed. The daemon is the one `DOCKER_HOST` (tcp:// or ssh://) or the current docker context names, else the
local socket (dockerhost).

The work tree reaches the container in one of two ways (`train.docker.transfer`):

    mount   bind-mounted at the same path as here (for a local daemon; translated to the host's path when
            mlgate itself runs in a container beside the daemon)
    copy    put into the created container at /mlgate/work, and after the run the result files (the
            metrics, params, predictions and plot data, plus `train.docker.results`) copied back (dockercopy):
            for a remote daemon, whose host does not hold this work tree

The RunRecord says which was used (`docker_transfer`) and where the daemon was (`docker_host`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mlgate.config import DockerConfig, TrainConfig
from mlgate.console import Console
from mlgate.errors import ConfigError, TrainingError
from mlgate.model import GpuTelemetry, RunRecord
from mlgate.record import Record
from mlgate.training import TrainSpec, dockercopy, dockerssh, raypack
from mlgate.training.dockerhost import (
    Daemon,
    Transfer,
    find_daemon,
    first_line,
    mount_source,
    transfer_mode,
    unreachable,
)
from mlgate.training.dockerlog import LogFollower
from mlgate.training.logstream import LogStream, ProgressClock
from mlgate.training.telemetry import GpuSampler, runner_info

LABEL = "org.mlgate.train"
GRACE_S = 5.0
API_TIMEOUT_S = 30.0
POLL_S = 0.2
# NOTE: these describe this machine (or are the forge's credentials), not the training: a host PATH or HOME
# breaks the image's own, and a training container has no business with the token that posts comments.
HOST_ONLY_ENV = frozenset(
    {"PATH", "HOME", "HOSTNAME", "PWD", "OLDPWD", "SHELL", "TMPDIR", "USER", "LOGNAME", "VIRTUAL_ENV",
     "PYTHONHOME", "PYTHONPATH", "LD_LIBRARY_PATH", "LD_PRELOAD", "SSH_AUTH_SOCK", "DOCKER_HOST",
     "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "MLGATE_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN",
     "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}
)  # fmt: skip


def container_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment the container gets: everything but this machine's own paths and the forge tokens."""
    return {key: value for key, value in env.items() if key not in HOST_ONLY_ENV}


def device_requests(gpus: str) -> list[dict[str, Any]]:
    """`train.gpus` as Docker device requests: `all` → every GPU, `0,1` → those ids, `none` → none."""
    if gpus == "none":
        return []
    if gpus == "all":
        return [{"Driver": "", "Count": -1, "Capabilities": [["gpu"]]}]
    return [{"Driver": "", "DeviceIDs": gpus.split(","), "Capabilities": [["gpu"]]}]


def container_user(uid: int, gid: int) -> str | None:
    """Run as this user, so files written into the work tree are ours; root keeps the image's default."""
    return None if uid == 0 else f"{uid}:{gid}"


@dataclass
class _Placement:
    """Which daemon runs the container and how the work tree gets there (and its host path, for a mount)."""

    daemon: Daemon
    transfer: Transfer
    source: str | None = None


class _Ending(Record):
    """How the container's run ended."""

    exit_code: int
    timed_out: bool
    oom_killed: bool
    gpu: GpuTelemetry | None


class DockerBackend:
    """Run the command in a fresh container of `image` on the daemon the environment points at."""

    name = "docker"

    def __init__(
        self,
        image: str,
        env: Mapping[str, str],
        *,
        grace_s: float = GRACE_S,
        docker: DockerConfig | None = None,
    ) -> None:
        self.image = image
        self.env = env
        self.grace_s = grace_s
        self.docker = docker or DockerConfig()

    @classmethod
    def from_config(cls, train: TrainConfig, env: Mapping[str, str]) -> DockerBackend:
        if not train.image:
            raise ConfigError(
                ".mlgate.yml",
                "train.image: required with `backend: docker`",
                hint="e.g. image: python:3.11-slim",
            )
        return cls(train.image, env, docker=train.docker)

    def run(self, spec: TrainSpec, console: Console) -> RunRecord:
        daemon = find_daemon(self.env)
        with dockerssh.open_tunnel(daemon, self.env, self.docker.ssh_options, spec.cwd) as tunnel:
            return self._run_on(daemon, self._client(daemon, tunnel), spec, console)

    def _run_on(self, daemon: Daemon, client: Any, spec: TrainSpec, console: Console) -> RunRecord:
        from docker.errors import DockerException

        run = _Placement(daemon, transfer_mode(self.docker.transfer, daemon))
        try:
            self._ensure_image(client, console)
            if run.transfer == "mount":
                run.source = mount_source(client, spec.cwd, daemon, console)
            return self._run_in(client, spec, run, console)
        except DockerException as exc:  # what the engine refused that the steps above do not name
            hint = "set train.docker.transfer: copy" if daemon.remote and run.transfer == "mount" else None
            raise TrainingError(f"docker: {self.image}", first_line(exc), hint=hint) from None
        finally:
            client.close()

    def _client(self, daemon: Daemon, tunnel: dockerssh.SshTunnel | None) -> Any:
        from docker.client import DockerClient

        env = daemon.client_env(self.env)
        if tunnel is not None:  # ssh:// goes through mlgate's own ssh tunnel (dockerssh)
            env = {**env, "DOCKER_HOST": tunnel.url}
        client = None
        try:
            client = DockerClient.from_env(environment=env, timeout=API_TIMEOUT_S)
            client.ping()
        except Exception as exc:  # DockerException, requests' errors, a refused socket: all "unreachable"
            if client is not None:
                client.close()
            raise (tunnel.unreachable(exc) if tunnel else unreachable(daemon, exc)) from None
        return client

    def _ensure_image(self, client: Any, console: Console) -> None:
        from docker.errors import DockerException, ImageNotFound
        from docker.utils import parse_repository_tag

        try:
            client.images.get(self.image)
            return
        except ImageNotFound:
            pass
        console.info(f"mlgate: image {self.image} not present on the Docker host: pulling it")
        repository, tag = parse_repository_tag(self.image)
        try:
            client.images.pull(repository, tag=tag or "latest")
        except DockerException as exc:
            raise TrainingError(
                f"train.image {self.image}",
                f"not present on the Docker host and the pull failed: {first_line(exc)}",
                hint="build or load the image on that host (`docker build -t NAME .`), or `docker login` "
                "for a private registry",
            ) from None

    def _run_in(self, client: Any, spec: TrainSpec, run: _Placement, console: Console) -> RunRecord:
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        copying = run.transfer == "copy"
        package = dockercopy.scan_tree(spec.cwd, self.docker, console) if copying else None
        where = f" on {run.daemon.describe()}" if run.daemon.remote else ""
        console.info(f"mlgate: training in {self.image}{where}: {spec.command}  (log: {spec.log_path})")
        container = self._create(client, spec, run)
        started = time.monotonic()
        try:
            if package is not None:
                dockercopy.copy_in(container, package, console)
            with spec.log_path.open("w", encoding="utf-8", errors="replace") as log:
                lines = LogStream(log, console)
                ending = self._start_and_wait(container, spec, lines, run.daemon, console)
            if copying:
                self._copy_out(container, spec, console)
            return self._record(spec, started, ending, lines.tail, run, console)
        finally:
            _remove(container)

    def _copy_out(self, container: Any, spec: TrainSpec, console: Console) -> None:
        patterns = [*spec.result_paths, *spec.outputs, *self.docker.results]
        limit = int(self.docker.max_results_mb * raypack.MIB)
        written = dockercopy.copy_results(lambda path: _archive(container, path), patterns, spec.cwd, limit)
        said = ", ".join(written) if written else "nothing (no result file was written)"
        console.info(f"mlgate: copied back from the container: {said}")

    def _create(self, client: Any, spec: TrainSpec, run: _Placement) -> Any:
        from docker.types import DeviceRequest, Mount

        path = str(spec.cwd.resolve())
        copying = run.transfer == "copy"
        env = {**container_env(spec.env), **({"HOME": "/tmp"} if os.getuid() != 0 else {})}
        return client.containers.create(
            self.image,
            ["/bin/sh", "-c", spec.command],
            working_dir=str(dockercopy.WORKDIR) if copying else path,
            environment=env,
            mounts=[] if copying else [Mount(target=path, source=run.source or path, type="bind")],
            device_requests=[DeviceRequest(**_snake(r)) for r in device_requests(spec.gpus)],
            user=container_user(os.getuid(), os.getgid()),
            labels={LABEL: "1"},
            init=True,
            detach=True,
        )

    def _start_and_wait(
        self, container: Any, spec: TrainSpec, lines: LogStream, daemon: Daemon, console: Console
    ) -> _Ending:
        """Start, stream the log, wait for the end. Ctrl-C stops the container and is re-raised."""
        self._start(container, spec.gpus)
        follower = LogFollower(container, lines)
        follower.thread.start()
        # NOTE: the container's processes are this machine's processes only with a local daemon.
        pid = 0 if daemon.remote else _pid(container)
        sampler = GpuSampler.start(pid, spec.runner_env) if pid > 0 else None
        gpu = None
        try:
            timed_out = self._wait(container, spec.timeout_s, console)
        except KeyboardInterrupt:
            console.warn("interrupted: stopping the training container")
            _stop(container, self.grace_s)
            raise
        finally:
            gpu = sampler.stop() if sampler else None
            follower.catch_up()
        status = container.wait(timeout=API_TIMEOUT_S)
        state = container.client.api.inspect_container(container.id)["State"]
        code = int(status.get("StatusCode", state.get("ExitCode", -1)))
        return _Ending(code, timed_out, bool(state.get("OOMKilled")), gpu)

    def _start(self, container: Any, gpus: str) -> None:
        from docker.errors import APIError

        try:
            container.start()
        except APIError as exc:
            message = first_line(exc)
            if gpus != "none" and re.search(r"gpu|device driver|nvidia", message, re.IGNORECASE):
                raise TrainingError(
                    f"train.gpus {gpus}",
                    f"the Docker host has no usable GPU: {message}",
                    hint="install the NVIDIA Container Toolkit there, or set `gpus: none`",
                ) from None
            raise TrainingError(f"docker: {self.image}", f"cannot start the container: {message}") from None

    def _wait(self, container: Any, timeout_s: float, console: Console) -> bool:
        """Poll until the container exits (False) or the timeout stops it (True)."""
        started = time.monotonic()
        progress = ProgressClock(console, started)
        while _status(container) not in ("exited", "dead"):
            now = time.monotonic()
            if now - started > timeout_s:
                console.warn(f"training timed out after {timeout_s:.0f} s: stopping its container")
                _stop(container, self.grace_s)
                return True
            progress.tick(now)
            time.sleep(POLL_S)
        return False

    def _record(
        self,
        spec: TrainSpec,
        started: float,
        ending: _Ending,
        tail: tuple[str, ...],
        run: _Placement,
        console: Console,
    ) -> RunRecord:
        killed = (ending.exit_code == 137 or ending.oom_killed) and not ending.timed_out
        record = RunRecord(
            command=spec.command,
            backend=self.name,
            exit_code=ending.exit_code,
            duration_s=time.monotonic() - started,
            timed_out=ending.timed_out,
            signal="SIGKILL" if killed else None,
            log_tail=tail,
            log_path=str(spec.log_path),
            runner=runner_info(spec.runner_env),
            gpu=ending.gpu,
            extra={
                "image": self.image,
                "docker_host": run.daemon.url or "local",
                "docker_transfer": run.transfer,
                **({"oom_killed": "true"} if ending.oom_killed else {}),
            },
        )
        oom = ending.oom_killed
        said = "killed: out of memory (OOMKilled)" if oom else f"exit code {ending.exit_code}"
        console.info(f"mlgate: training finished in {record.duration_s:.1f} s, {said}")
        return record


@contextmanager
def _archive(container: Any, path: str) -> Iterator[Iterator[bytes] | None]:
    """The tar stream of `path` in the container (None when it is not there), closed when left."""
    from docker.errors import APIError

    # NOTE: `Container.get_archive` returns a bare generator: one left unfinished (results over the limit)
    # leaks its connection. The same request through the SDK's own session, as a Response, can be closed.
    api = container.client.api
    url = f"{api.base_url}/v{api.api_version}/containers/{container.id}/archive"
    with api.get(url, params={"path": path}, stream=True, timeout=API_TIMEOUT_S) as response:
        if response.status_code == 404:
            yield None
            return
        if response.status_code >= 400:
            raise APIError(f"GET archive {path}", response=response, explanation=response.text[:300])
        yield response.iter_content(raypack.MIB)


def _status(container: Any) -> str:
    state = container.client.api.inspect_container(container.id)["State"]
    return str(state.get("Status", "exited"))


def _pid(container: Any) -> int:
    return int(container.client.api.inspect_container(container.id)["State"].get("Pid") or 0)


def _stop(container: Any, grace_s: float) -> None:
    """SIGTERM, then SIGKILL after the grace period (the engine's `stop`)."""
    from docker.errors import DockerException

    try:
        container.stop(timeout=max(1, round(grace_s)))
    except DockerException:
        return


def _remove(container: Any) -> None:
    from docker.errors import DockerException

    try:
        container.remove(force=True)
    except DockerException:
        return


def _snake(request: Mapping[str, Any]) -> dict[str, Any]:
    names = {"Driver": "driver", "Count": "count", "DeviceIDs": "device_ids", "Capabilities": "capabilities"}
    return {names[key]: value for key, value in request.items()}
