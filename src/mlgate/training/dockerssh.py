"""The ssh:// road to a Docker daemon: OpenSSH's own client, one `docker system dial-stdio` per connection.

mlgate listens on a unix socket in a private scratch folder and hands the docker SDK `unix://` to it. Each
connection the SDK opens runs, with that connection as its stdin and stdout,

    ssh [train.docker.ssh_options] -T -o BatchMode=yes -o ConnectTimeout=20 [-l USER] [-p PORT]
        -- HOST docker [--host unix://PATH] system dial-stdio

which is how the docker CLI itself reaches an ssh:// host: the far side needs the docker CLI and a login
that takes no prompt. ssh gets the environment mlgate was given (its agent, `SSH_AUTH_SOCK`), its own
session (Ctrl-C here does not cut the connection that stops the container) and `BatchMode` (a refused key
fails at once instead of asking for a password). What it prints is kept, not shown: the last line of a
failed login is what the error says.

NOTE: the SDK's own ssh:// transport (docker 7.x, `docker/transport/sshconn.py`) imports paramiko even with
`use_ssh_client=True`, so without the `docker[ssh]` extra ssh:// fails with "Install paramiko package".
Both of its modes read `~/.ssh` of the process environment rather than the one mlgate was given; paramiko
knows only a few ssh_config keys (no ProxyJump, no UserKnownHostsFile) and the shell-out lets ssh prompt and
print on the terminal. This module needs no extra package and gives ssh:// what `ssh HOST` has.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from mlgate.errors import ConfigError, TrainingError
from mlgate.training.dockerhost import Daemon, first_line

CONNECT_TIMEOUT_S = 20
LOGIN_HINT = (
    "check that `{login} docker version` answers with no prompt: a key in ssh-agent or ~/.ssh/config, "
    "the host in known_hosts, docker installed there (train.docker.ssh_options passes more options to ssh)"
)
SSH_HINT = "install the OpenSSH client (`apt-get install openssh-client`), or use DOCKER_HOST=tcp://…"


@dataclass(frozen=True)
class SshTarget:
    """The parts of an `ssh://[USER@]HOST[:PORT][/SOCKET]` URL that ssh and the far side's docker need."""

    host: str
    user: str | None = None
    port: int | None = None
    socket_path: str = ""  # the far side's daemon socket; empty: that docker's own default

    def login(self) -> str:
        """How a person would type it: `ssh [-p PORT] [USER@]HOST`."""
        port = f"-p {self.port} " if self.port else ""
        return f"ssh {port}{self.user + '@' if self.user else ''}{self.host}"

    def remote_command(self) -> str:
        host = f"--host {shlex.quote('unix://' + self.socket_path)} " if self.socket_path else ""
        return f"docker {host}system dial-stdio"


def parse_target(url: str) -> SshTarget:
    """`ssh://…` as ssh's arguments; a URL without a host or with a bad port is a ConfigError."""
    parts = urlsplit(url)
    hostport = parts.netloc.rpartition("@")[2]
    host = hostport[1 : hostport.find("]")] if hostport.startswith("[") else hostport.partition(":")[0]
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not host or port == -1 or parts.query or parts.fragment:
        raise ConfigError(
            f"DOCKER_HOST={url}",
            "not an ssh:// address",
            hint="write it as ssh://USER@HOST, ssh://USER@HOST:PORT or ssh://HOST-ALIAS (from ~/.ssh/config)",
        )
    return SshTarget(host, parts.username or None, port, parts.path if parts.path not in ("", "/") else "")


def ssh_command(target: SshTarget, options: Sequence[str], ssh: str) -> list[str]:
    """The argv of one connection; the user's options first, so that theirs win (ssh keeps the first)."""
    args = [ssh, *options, "-T", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT_S}"]
    args += ["-l", target.user] if target.user else []
    args += ["-p", str(target.port)] if target.port else []
    return [*args, "--", target.host, target.remote_command()]


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    tunnel: SshTunnel


class _Dial(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.tunnel.dial(self.request)


class SshTunnel:
    """A unix socket whose every connection is an ssh session to the far side's `docker system dial-stdio`."""

    def __init__(self, target: SshTarget, command: list[str], env: Mapping[str, str]) -> None:
        self.target = target
        self.command = command
        self.env = dict(env)
        self.failure: str | None = None  # the last line a failed ssh printed
        self._folder = tempfile.mkdtemp(prefix="mlgate-ssh-")  # 0700: only we can connect
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._server = _Server(os.path.join(self._folder, "docker.sock"), _Dial)
        self._server.tunnel = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"unix://{self._server.server_address}"

    def dial(self, connection: socket.socket) -> None:
        """Run one ssh with `connection` as its stdin and stdout, until it ends; keep what it printed."""
        fd = connection.fileno()
        proc = subprocess.Popen(self.command, stdin=fd, stdout=fd, stderr=subprocess.PIPE, env=self.env,
                                start_new_session=True)  # fmt: skip
        with self._lock:
            self._running.add(proc)
        _, printed = proc.communicate()
        with self._lock:
            self._running.discard(proc)
        if proc.returncode > 0:
            lines = printed.decode(errors="replace").strip().splitlines()
            self.failure = lines[-1][:300] if lines else f"ssh exited with code {proc.returncode}"

    def unreachable(self, daemon: Daemon, exc: BaseException) -> TrainingError:
        """The error for a daemon not reached: what ssh said (else the SDK), and how to try it by hand."""
        said = f"ssh: {self.failure}" if self.failure else first_line(exc)
        return TrainingError(
            f"docker ({daemon.describe()})",
            f"cannot reach the Docker daemon over ssh: {said}",
            hint=LOGIN_HINT.format(login=self.target.login()),
        )

    def close(self) -> None:
        """Stop listening, end the ssh sessions still open, remove the socket's folder."""
        self._server.shutdown()
        with self._lock:
            running = list(self._running)
        for proc in running:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        self._server.server_close()
        self._thread.join(timeout=5)
        shutil.rmtree(self._folder, ignore_errors=True)


@contextmanager
def open_tunnel(daemon: Daemon, env: Mapping[str, str], options: Sequence[str]) -> Iterator[SshTunnel | None]:
    """For an ssh:// daemon, a tunnel to it for the `with` block (closed after it); else None."""
    if daemon.url is None or not daemon.url.startswith("ssh://"):
        yield None
        return
    target = parse_target(daemon.url)
    ssh = shutil.which("ssh", path=env.get("PATH") or os.defpath)
    if ssh is None:
        raise TrainingError(f"docker ({daemon.describe()})", "no `ssh` client on PATH", hint=SSH_HINT)
    tunnel = SshTunnel(target, ssh_command(target, options, ssh), env)
    try:
        yield tunnel
    finally:
        tunnel.close()
