"""The ssh:// road to a Docker daemon: OpenSSH's own client, one login, one `dial-stdio` per connection.

mlgate logs in once (an OpenSSH control master, `ssh -M -N`, its socket in a private scratch folder), then
listens on a unix socket beside it and hands the docker SDK `unix://` to that. Each connection the SDK opens
runs, with that connection as its stdin and stdout and through the master's login,

    ssh [train.docker.ssh_options] -T -o BatchMode=yes -o ConnectTimeout=20 -o ControlPath=… [-l USER]
        [-p PORT] -o ControlMaster=no -- HOST docker [--host unix://PATH] system dial-stdio

which is how the docker CLI itself reaches an ssh:// host: the far side needs the docker CLI and a login
that takes no prompt. ssh gets the environment mlgate was given less its secrets (`ssh_env`): no forge
token, none of the runner's `ACTIONS_*`, no variable named like a credential (`HF_TOKEN`, `…_PASSWORD`),
for `train.docker.ssh_options` come from `.mlgate.yml` (the PR's own with `--trust-pr-config`) and a
`ProxyCommand`, `LocalCommand` or `SendEnv` there would hand them on; its agent (`SSH_AUTH_SOCK`),
`HOME`, `PATH`, `USER` and locale stay. ssh runs in the work tree the training copies (the repository
root), so a relative `-F ci/ssh_config` means the same wherever mlgate was started. ssh also gets its own
session (Ctrl-C here does not cut the connection that stops the container) and `BatchMode` (a refused key
fails at once instead of asking for a password). What it prints is kept, not shown: the last line of a
failed login is what the error says. The SDK opens a connection per API path (a dozen for one run); with
the shared login each costs an ssh session instead of a handshake (a tiny run: 3.8 s instead of 10.4 s,
tcp:// 1.1 s). Past the server's `MaxSessions` (10 by default) ssh logs in again on its own. Options that
take the sharing over (`ControlPath`, `ControlMaster`, `ControlPersist`, `-S`, `-M`) are a ConfigError.

NOTE: the SDK's own ssh:// transport (docker 7.x, `docker/transport/sshconn.py`) imports paramiko even with
`use_ssh_client=True`, so without the `docker[ssh]` extra ssh:// fails with "Install paramiko package".
Both of its modes give ssh the process's environment, not the one mlgate was given; paramiko knows only a
few ssh_config keys (no ProxyJump, no UserKnownHostsFile) and the shell-out lets ssh prompt and print on the
terminal. This module needs no extra package and gives ssh:// what `ssh HOST` has.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from mlgate.ci import secret_values
from mlgate.errors import ConfigError, TrainingError
from mlgate.record import Record
from mlgate.training import FORGE_TOKENS
from mlgate.training.dockerhost import Daemon, first_line

CONNECT_TIMEOUT_S = 20
LOGIN_HINT = (
    "check that `{login} docker version` answers with no prompt: a key in ssh-agent or ~/.ssh/config, "
    "the host in known_hosts, docker installed there (train.docker.ssh_options passes more options to ssh)"
)
SSH_HINT = "install the OpenSSH client (`apt-get install openssh-client`), or use DOCKER_HOST=tcp://…"
SHARING_KEYS = frozenset({"controlpath", "controlmaster", "controlpersist"})  # ssh_config keys, any case
_TAKES_VALUE = frozenset("BbcDEeFIiJLlmOoPpQRSWw")  # ssh's one-letter options that take an argument


class SshTarget(Record):
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


def ssh_command(target: SshTarget, options: Sequence[str], ssh: str, control: str) -> list[str]:
    """The ssh argv up to the host, sharing the login at `control`; the user's options first, so that
    theirs win (ssh keeps the first value it is given)."""
    args = [ssh, *options, "-T", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT_S}"]
    args += ["-o", f"ControlPath={control}"]
    args += ["-l", target.user] if target.user else []
    return args + (["-p", str(target.port)] if target.port else [])


def ssh_env(env: Mapping[str, str]) -> dict[str, str]:
    """What ssh runs with: `env` without the forge tokens, the runner's `ACTIONS_*` and every variable
    named like a credential, whatever its length (the names the log masking hides)."""
    return {name: value for name, value in env.items() if not _secret_name(name)}


def _secret_name(name: str) -> bool:
    named = bool(secret_values({name: "x" * 64}))  # the name alone decides, not how long the value is
    return named or name in FORGE_TOKENS or name.startswith("ACTIONS_")


def check_options(options: Sequence[str]) -> None:
    """A ConfigError for an option that would take over the login mlgate shares; else nothing."""
    found = _sharing_option(options)
    if found is not None:
        raise ConfigError(
            ".mlgate.yml",
            f"train.docker.ssh_options: `{found}` is not allowed: mlgate shares one ssh login through a "
            "control socket of its own, which this would replace (and mlgate would wait for it in vain)",
            hint="remove it: every connection already goes through one login (ControlPath, ControlMaster, "
            "ControlPersist, -S and -M are mlgate's own)",
        )


def _sharing_option(options: Sequence[str]) -> str | None:
    """The first of `options` (as ssh's getopt reads them) that sets ssh's connection sharing."""
    args = iter(options)
    for arg in args:
        if arg == "--":
            return None
        for at, letter in enumerate(arg[1:] if arg.startswith("-") else "", start=2):
            if letter == "M":
                return arg
            if letter not in _TAKES_VALUE:
                continue
            value = arg[at:] or next(args, "")
            key = value.replace("=", " ").split(maxsplit=1)[0].lower() if value.strip() else ""
            if letter == "S" or (letter == "o" and key in SHARING_KEYS):
                return f"-{letter} {value}"
            break
    return None


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    tunnel: SshTunnel


class _Dial(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.tunnel.dial(self.request)


class SshTunnel:
    """One ssh login to the far side, and a unix socket whose every connection is a `dial-stdio` over it."""

    def __init__(
        self, daemon: Daemon, ssh: str, options: Sequence[str], env: Mapping[str, str], cwd: Path
    ) -> None:
        self.daemon = daemon
        self.target = parse_target(str(daemon.url))
        self.env = ssh_env(env)
        self.cwd = cwd  # relative paths in the user's options are taken from here
        self.failure: str | None = None  # the last line a failed ssh printed
        self._folder = Path(tempfile.mkdtemp(prefix="mlgate-ssh-"))  # 0700: only we can connect
        self._base = ssh_command(self.target, options, ssh, str(self._folder / "login"))
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._master: subprocess.Popen[bytes] | None = None
        self._server = _Server(str(self._folder / "docker.sock"), _Dial)
        self._server.tunnel = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"unix://{self._server.server_address}"

    def start(self) -> None:
        """Log in once (an OpenSSH control master), then listen; a refused login is a TrainingError."""
        printed = self._folder / "login.log"
        with printed.open("wb") as log:
            self._master = subprocess.Popen([*self._base, "-M", "-N", "--", self.target.host],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env,
                                            cwd=self.cwd, start_new_session=True)  # fmt: skip
        # NOTE: the master answers on its ControlPath once logged in; a ControlPath of the user's would
        # win over ours (ssh keeps the first value) and this would wait in vain, hence check_options.
        deadline = time.monotonic() + CONNECT_TIMEOUT_S + 5
        while not (self._folder / "login").exists() and time.monotonic() < deadline:
            if self._master.poll() is not None:
                self.failure = _last_line(printed.read_bytes(), self._master.returncode)
                raise self.unreachable(None)
            time.sleep(0.02)
        self._thread.start()

    def dial(self, connection: socket.socket) -> None:
        """Run one ssh with `connection` as its stdin and stdout, until it ends; keep what it printed."""
        fd = connection.fileno()
        command = [*self._base, "-o", "ControlMaster=no", "--", self.target.host]
        command.append(self.target.remote_command())
        proc = subprocess.Popen(command, stdin=fd, stdout=fd, stderr=subprocess.PIPE, env=self.env,
                                cwd=self.cwd, start_new_session=True)  # fmt: skip
        with self._lock:
            self._running.add(proc)
        _, printed = proc.communicate()
        with self._lock:
            self._running.discard(proc)
        if proc.returncode > 0:
            self.failure = _last_line(printed, proc.returncode)

    def unreachable(self, exc: BaseException | None) -> TrainingError:
        """The error for a daemon not reached: what ssh said (else the SDK), and how to try it by hand."""
        said = f"ssh: {self.failure}" if self.failure or exc is None else first_line(exc)
        return TrainingError(
            f"docker ({self.daemon.describe()})",
            f"cannot reach the Docker daemon over ssh: {said}",
            hint=LOGIN_HINT.format(login=self.target.login()),
        )

    def close(self) -> None:
        """Stop listening, end the ssh sessions still open and the login, remove the scratch folder."""
        if self._thread.is_alive():
            self._server.shutdown()
        with self._lock:
            running = [*self._running, *([self._master] if self._master else [])]
        for proc in running:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for proc in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        shutil.rmtree(self._folder, ignore_errors=True)


def _last_line(printed: bytes, code: int) -> str:
    lines = printed.decode(errors="replace").strip().splitlines()
    return lines[-1][:300] if lines else f"ssh exited with code {code}"


@contextmanager
def open_tunnel(
    daemon: Daemon, env: Mapping[str, str], options: Sequence[str], cwd: Path
) -> Iterator[SshTunnel | None]:
    """For an ssh:// daemon, a tunnel to it for the `with` block (closed after it), its ssh run in `cwd`
    (the work tree); else None."""
    if daemon.url is None or not daemon.url.startswith("ssh://"):
        yield None
        return
    parse_target(daemon.url)  # a malformed address or a refused option is a ConfigError before anything runs
    check_options(options)
    ssh = shutil.which("ssh", path=env.get("PATH") or os.defpath)
    if ssh is None:
        raise TrainingError(f"docker ({daemon.describe()})", "no `ssh` client on PATH", hint=SSH_HINT)
    tunnel = SshTunnel(daemon, ssh, options, env, cwd)
    try:
        tunnel.start()
        yield tunnel
    finally:
        tunnel.close()
