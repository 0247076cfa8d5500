"""Where the Docker daemon is and how it sees this machine's paths: local or remote, and bind-mount sources.

The daemon is the one `DOCKER_HOST` names, else the endpoint of the current docker context (`DOCKER_CONTEXT`,
else `currentContext` in `$DOCKER_CONFIG/config.json`, `~/.docker` by default), else the local socket. One
reached over tcp:// or ssh:// is *remote*: it cannot see this machine's disk, so a bind mount would name a
path on its own host. `train.docker.transfer: auto` copies the work tree for a remote daemon and bind-mounts
it for a local one. When mlgate itself runs in a container that shares the daemon's socket (a GitHub
container action), a path here is not a path on the daemon's host either: the bind-mount source is
translated through the mounts of mlgate's own container, found by inspecting it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from mlgate.console import Console
from mlgate.errors import ConfigError, TrainingError
from mlgate.record import Record

LOCAL_SCHEMES = ("unix://", "npipe://", "fd://")
_CONTAINER_ID = re.compile(r"/containers/([0-9a-f]{64})/")
Transfer = Literal["mount", "copy"]
DAEMON_HINT = "start Docker, or set DOCKER_HOST to a reachable daemon (tcp://HOST:2376 or ssh://USER@HOST)"
SOCKET = Path("/var/run/docker.sock")
SOCKET_HINT = (
    "mount the runner's Docker socket into this container: a GitHub container action gets it; "
    "with docker run add `-v /var/run/docker.sock:/var/run/docker.sock` (or set DOCKER_HOST)"
)
REMOTE_HINT = (
    "check that the machine DOCKER_HOST names is up and its daemon listens there (`docker -H URL version`)"
)


class Daemon(Record):
    """The daemon mlgate talks to: its URL (None: the SDK's local default) and where that came from."""

    url: str | None = None
    context: str | None = None  # the docker context that named it, when DOCKER_HOST did not
    tls_dir: Path | None = None  # the context's ca.pem / cert.pem / key.pem
    skip_tls_verify: bool = False

    @property
    def remote(self) -> bool:
        """Reached over the network (tcp://, ssh://): it cannot see this machine's files."""
        return self.url is not None and not self.url.startswith(LOCAL_SCHEMES)

    def describe(self) -> str:
        if self.url is None:
            return "the local Docker socket"
        if self.context is None:
            return f"DOCKER_HOST={self.url}"
        return f"docker context {self.context} ({self.url})"

    def client_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """The environment for the SDK's `from_env`: a context's endpoint and TLS files as DOCKER_* vars."""
        if self.context is None or self.url is None:
            return dict(env)
        tls = {"DOCKER_CERT_PATH": str(self.tls_dir)} if self.tls_dir else {}
        verify = {"DOCKER_TLS_VERIFY": "1"} if self.tls_dir and not self.skip_tls_verify else {}
        return {**env, "DOCKER_HOST": self.url, **tls, **verify}


def find_daemon(env: Mapping[str, str]) -> Daemon:
    """DOCKER_HOST, else the current docker context's endpoint, else the local socket."""
    if env.get("DOCKER_HOST"):
        return Daemon(env["DOCKER_HOST"])
    config = _config_dir(env)
    name = env.get("DOCKER_CONTEXT") or _current_context(config)
    if not name or name == "default":
        return Daemon()
    return _context(config, name)


def transfer_mode(setting: str, daemon: Daemon) -> Transfer:
    """`train.docker.transfer` resolved: `auto` copies for a remote daemon and mounts for a local one."""
    if setting == "auto":
        return "copy" if daemon.remote else "mount"
    return "copy" if setting == "copy" else "mount"


def _config_dir(env: Mapping[str, str]) -> Path:
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"])
    return Path(env.get("HOME") or Path.home()) / ".docker"


def _current_context(config: Path) -> str | None:
    try:
        data = json.loads((config / "config.json").read_text())
    except (OSError, ValueError):
        return None
    name = data.get("currentContext") if isinstance(data, dict) else None
    return str(name) if name else None


def _context(config: Path, name: str) -> Daemon:
    """The endpoint of context `name`, as the docker CLI stores it (meta/<sha256 of the name>/meta.json)."""
    key = hashlib.sha256(name.encode()).hexdigest()
    meta_file = config / "contexts" / "meta" / key / "meta.json"
    try:
        endpoint = json.loads(meta_file.read_text())["Endpoints"]["docker"]
        host = str(endpoint["Host"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f"docker context {name}",
            f"not found or unreadable ({meta_file})",
            hint="`docker context ls` lists them; set DOCKER_CONTEXT or DOCKER_HOST to one that exists",
        ) from None
    tls = config / "contexts" / "tls" / key / "docker"
    tls_dir = tls if (tls / "ca.pem").is_file() or (tls / "cert.pem").is_file() else None
    return Daemon(host, name, tls_dir, bool(endpoint.get("SkipTLSVerify")))


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
    return (root / "var/run/docker.sock").exists() and is_container(root)


def is_container(root: Path = Path("/")) -> bool:
    """This process runs in a container (Docker's marker file, or a container cgroup of PID 1)."""
    if (root / ".dockerenv").exists():
        return True
    try:
        cgroup = (root / "proc/1/cgroup").read_text()
    except OSError:
        return False
    return any(word in cgroup for word in ("docker", "containerd", "kubepods"))


def mount_source(client: Any, cwd: Path, daemon: Daemon, console: Console) -> str:
    """Where the daemon finds the work tree: this path, or its host path when we run in a container."""
    path = str(cwd.resolve())
    if daemon.url is not None or not in_container():
        return path
    own = own_container_id(_read(Path("/proc/self/mountinfo")), _read(Path("/etc/hostname")).strip())
    if own is None:
        return path
    try:
        mounts = client.api.inspect_container(own)["Mounts"]
    except Exception as exc:  # not a container of this daemon (the daemon runs beside us): same paths
        console.debug(f"docker: cannot inspect our own container {own}: {first_line(exc)}")
        return path
    mapped = host_path(path, mounts)
    if mapped is None:
        raise TrainingError(
            f"docker: {path}",
            "mlgate runs in a container and the work tree is not on a mount the Docker host can share",
            hint="mount the workspace from the host (a GitHub container action does this), "
            "or set train.docker.transfer: copy",
        )
    console.debug(f"docker: work tree {path} is {mapped} on the Docker host")
    return mapped


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def first_line(exc: BaseException) -> str:
    """The daemon's own message for an APIError (not docker-py's URL prefix), else the exception's text."""
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def unreachable(daemon: Daemon, exc: BaseException) -> TrainingError:
    """The one-line error for a daemon that did not answer; a missing local socket is said as such."""
    where = f"docker ({daemon.describe()})"
    if daemon.remote:
        return TrainingError(where, f"cannot reach the Docker daemon: {first_line(exc)}", hint=REMOTE_HINT)
    if daemon.url is None and not SOCKET.exists():
        hint = SOCKET_HINT if is_container() else DAEMON_HINT
        return TrainingError(where, f"no Docker socket at {SOCKET}: is Docker running here?", hint=hint)
    return TrainingError(where, f"cannot reach the Docker daemon: {first_line(exc)}", hint=DAEMON_HINT)
