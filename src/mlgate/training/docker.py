"""The `docker` backend: the training command in a container of `train.image`, with the repo bind-mounted.

The command runs as `/bin/sh -c COMMAND` under the engine's init (so SIGTERM reaches it), in the work tree
mounted at the same path as here, with the environment passed on (less this machine's own paths and the
forge tokens), GPUs through `device_requests`. Its log is streamed line by line like the subprocess
backend's. A timeout or Ctrl-C stops the container; it is always removed. The daemon is the one `DOCKER_HOST`
names (tcp:// or ssh://, through the SDK's `from_env`), else the local socket.

When mlgate itself runs in a container that shares the daemon's socket (a GitHub container action), a path
here is not a path on the daemon's host: the bind-mount source is translated through the mounts of mlgate's
own container, found by inspecting it.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mlgate.config import TrainConfig
from mlgate.console import Console
from mlgate.errors import ConfigError, TrainingError
from mlgate.model import GpuTelemetry, RunRecord
from mlgate.training import TrainSpec
from mlgate.training.logstream import LogStream, ProgressClock
from mlgate.training.telemetry import GpuSampler, runner_info

LABEL = "org.mlgate.train"
GRACE_S = 5.0
API_TIMEOUT_S = 30.0
POLL_S = 0.2
DAEMON_HINT = "start Docker, or set DOCKER_HOST to a reachable daemon (tcp://HOST:2376 or ssh://USER@HOST)"
# NOTE: these describe this machine (or are the forge's credentials), not the training: a host PATH or HOME
# breaks the image's own, and a training container has no business with the token that posts comments.
HOST_ONLY_ENV = frozenset(
    {"PATH", "HOME", "HOSTNAME", "PWD", "OLDPWD", "SHELL", "TMPDIR", "USER", "LOGNAME", "VIRTUAL_ENV",
     "PYTHONHOME", "PYTHONPATH", "LD_LIBRARY_PATH", "LD_PRELOAD", "SSH_AUTH_SOCK", "DOCKER_HOST",
     "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "MLGATE_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN",
     "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}
)  # fmt: skip
_CONTAINER_ID = re.compile(r"/containers/([0-9a-f]{64})/")


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


def own_container_id(mountinfo: str, hostname: str) -> str | None:
    """The id of the container this process runs in: from its /etc/hostname mount, else the hostname."""
    for line in mountinfo.splitlines():
        found = _CONTAINER_ID.search(line)
        if found:
            return found.group(1)
    return hostname if re.fullmatch(r"[0-9a-f]{12}", hostname) else None


def host_path(path: str, mounts: Sequence[Mapping[str, Any]]) -> str | None:
    """`path` inside our container as the daemon's host sees it, through the deepest mount holding it."""
    target = PurePosixPath(path)
    best: tuple[int, str] | None = None
    for mount in mounts:
        destination = PurePosixPath(str(mount.get("Destination", "")))
        if mount.get("Source") and target.is_relative_to(destination):
            depth = len(destination.parts)
            if best is None or depth > best[0]:
                rest = target.relative_to(destination)
                best = (depth, str(PurePosixPath(str(mount["Source"])) / rest))
    return best[1] if best else None


def in_container(root: Path = Path("/")) -> bool:
    """This process runs in a container and can reach the daemon through a mounted socket."""
    if not (root / "var/run/docker.sock").exists():
        return False
    if (root / ".dockerenv").exists():
        return True
    try:
        cgroup = (root / "proc/1/cgroup").read_text()
    except OSError:
        return False
    return any(word in cgroup for word in ("docker", "containerd", "kubepods"))


@dataclass(frozen=True)
class _Ending:
    """How the container's run ended."""

    exit_code: int
    timed_out: bool
    oom_killed: bool
    gpu: GpuTelemetry | None


class DockerBackend:
    """Run the command in a fresh container of `image` on the daemon the environment points at."""

    name = "docker"

    def __init__(self, image: str, env: Mapping[str, str], *, grace_s: float = GRACE_S) -> None:
        self.image = image
        self.env = env
        self.grace_s = grace_s

    @classmethod
    def from_config(cls, train: TrainConfig, env: Mapping[str, str]) -> DockerBackend:
        if not train.image:
            raise ConfigError(
                ".mlgate.yml",
                "train.image: required with `backend: docker`",
                hint="e.g. image: python:3.11-slim",
            )
        return cls(train.image, env)

    def run(self, spec: TrainSpec, console: Console) -> RunRecord:
        from docker.errors import DockerException

        client = self._client()
        try:
            self._ensure_image(client, console)
            source = self._mount_source(client, spec.cwd, console)
            return self._run_in(client, spec, source, console)
        except DockerException as exc:  # what the engine refused that the steps above do not name
            hint = "with a remote DOCKER_HOST the work tree must exist at the same path on that host"
            raise TrainingError(
                f"docker: {self.image}", _first_line(exc), hint=hint if self.env.get("DOCKER_HOST") else None
            ) from None
        finally:
            client.close()

    def _client(self) -> Any:
        from docker.client import DockerClient

        options: dict[str, Any] = {"environment": dict(self.env), "timeout": API_TIMEOUT_S}
        if self.env.get("DOCKER_HOST", "").startswith("ssh://"):
            options["use_ssh_client"] = True  # the system's ssh, its config and agent; no paramiko needed
        where = self.env.get("DOCKER_HOST") or "the local Docker socket"
        client = None
        try:
            client = DockerClient.from_env(**options)
            client.ping()
        except Exception as exc:  # DockerException, requests' errors, a refused socket: all "unreachable"
            if client is not None:
                client.close()
            raise TrainingError(
                f"docker ({where})", f"cannot reach the Docker daemon: {_first_line(exc)}", hint=DAEMON_HINT
            ) from None
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
                f"not present on the Docker host and the pull failed: {_first_line(exc)}",
                hint="build or load the image on that host (`docker build -t NAME .`), or `docker login` "
                "for a private registry",
            ) from None

    def _mount_source(self, client: Any, cwd: Path, console: Console) -> str:
        """Where the daemon finds the work tree: this path, or its host path when we run in a container."""
        path = str(cwd.resolve())
        if self.env.get("DOCKER_HOST") or not in_container():
            return path
        mountinfo = _read(Path("/proc/self/mountinfo"))
        own = own_container_id(mountinfo, _read(Path("/etc/hostname")).strip())
        if own is None:
            return path
        try:
            mounts = client.api.inspect_container(own)["Mounts"]
        except Exception as exc:  # not a container of this daemon (the daemon runs beside us): same paths
            console.debug(f"docker: cannot inspect our own container {own}: {_first_line(exc)}")
            return path
        mapped = host_path(path, mounts)
        if mapped is None:
            raise TrainingError(
                f"docker: {path}",
                "mlgate runs in a container and the work tree is not on a mount the Docker host can share",
                hint="mount the workspace from the host (a GitHub container action does this)",
            )
        console.debug(f"docker: work tree {path} is {mapped} on the Docker host")
        return mapped

    def _run_in(self, client: Any, spec: TrainSpec, source: str, console: Console) -> RunRecord:
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        console.info(f"mlgate: training in {self.image}: {spec.command}  (log: {spec.log_path})")
        container = self._create(client, spec, source)
        started = time.monotonic()
        try:
            with spec.log_path.open("w", encoding="utf-8", errors="replace") as log:
                lines = LogStream(log, console)
                ending = self._start_and_wait(container, spec, lines, console)
            return self._record(spec, started, ending, lines.tail, console)
        finally:
            _remove(container)

    def _create(self, client: Any, spec: TrainSpec, source: str) -> Any:
        from docker.types import DeviceRequest, Mount

        path = str(spec.cwd.resolve())
        env = {**container_env(spec.env), **({"HOME": "/tmp"} if os.getuid() != 0 else {})}
        return client.containers.create(
            self.image,
            ["/bin/sh", "-c", spec.command],
            working_dir=path,
            environment=env,
            mounts=[Mount(target=path, source=source, type="bind")],
            device_requests=[DeviceRequest(**_snake(r)) for r in device_requests(spec.gpus)],
            user=container_user(os.getuid(), os.getgid()),
            labels={LABEL: "1"},
            init=True,
            detach=True,
        )

    def _start_and_wait(self, container: Any, spec: TrainSpec, lines: LogStream, console: Console) -> _Ending:
        """Start, stream the log, wait for the end. Ctrl-C stops the container and is re-raised."""
        self._start(container, spec.gpus)
        follower = _LogFollower(container, lines)
        follower.thread.start()
        # NOTE: the container's processes are this machine's processes only with a local daemon.
        pid = 0 if self.env.get("DOCKER_HOST") else _pid(container)
        sampler = GpuSampler.start(pid) if pid > 0 else None
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
            message = _first_line(exc)
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
            extra={"image": self.image, **({"oom_killed": "true"} if ending.oom_killed else {})},
        )
        oom = ending.oom_killed
        said = "killed: out of memory (OOMKilled)" if oom else f"exit code {ending.exit_code}"
        console.info(f"mlgate: training finished in {record.duration_s:.1f} s, {said}")
        return record


class _LogFollower:
    """Follows the container's combined output into `lines`, counting the bytes it has seen."""

    def __init__(self, container: Any, lines: LogStream) -> None:
        self.container = container
        self.lines = lines
        self.seen = 0
        self.stream: Any = None
        self.thread = threading.Thread(target=self._follow, daemon=True)

    def _follow(self) -> None:
        try:
            self.stream = self.container.logs(stream=True, follow=True, stdout=True, stderr=True)
            for chunk in self.stream:
                self._feed(chunk)
        except Exception as exc:  # the daemon went away mid-run; the exit status says the rest
            self.lines.note(f"mlgate: log stream ended: {_first_line(exc)}")
        finally:
            self.close()

    def close(self) -> None:
        """Close the follow stream's socket (also to unblock a follower still waiting for output)."""
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close()

    def _feed(self, chunk: bytes) -> None:
        self.seen += len(chunk)
        self.lines.feed(chunk)

    def catch_up(self) -> None:
        """After the exit: what the follow stream missed (it may close before a last partial line)."""
        self.thread.join(timeout=5.0)
        if self.thread.is_alive():
            self.close()
            self.thread.join(timeout=1.0)
            return
        try:
            everything: bytes = self.container.logs(stdout=True, stderr=True)
        except Exception:  # the log we have is the log there is
            return
        if len(everything) > self.seen:
            self._feed(everything[self.seen :])
        self.lines.finish()


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


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _first_line(exc: BaseException) -> str:
    """The daemon's own message for an APIError (not docker-py's URL prefix), else the exception's text."""
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
