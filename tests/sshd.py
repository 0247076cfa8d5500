"""A throwaway OpenSSH server on 127.0.0.1, and a client config that logs into it with no prompt.

`running_sshd(folder)` makes a host key and a client key in `folder`, starts `/usr/sbin/sshd -D -e -f CONFIG`
as the current user on a free loopback port (keys only, the client key authorised, `StrictModes no`,
`UsePAM no`), writes a client config (`ssh -F`) with its host key pinned in a known_hosts of its own, and
always stops the server. The client config has three host aliases: one that logs in, one with a key the
server does not know, and one whose port nobody listens on. Nothing of the user's own `~/.ssh` is read.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
ALIAS = "mlgate-test-sshd"
BAD_KEY_ALIAS = "mlgate-test-sshd-badkey"
CLOSED_ALIAS = "mlgate-test-sshd-closed"


@dataclass(frozen=True)
class SshServer:
    """The running server and the files a client needs to reach it."""

    port: int
    closed_port: int
    client_config: Path  # for `ssh -F`
    key: Path  # the authorised private key
    bad_key: Path  # a private key the server does not know
    log: Path  # sshd's own log (-e)

    @property
    def ssh_options(self) -> list[str]:
        return ["-F", str(self.client_config)]


def missing() -> str | None:
    """Why no test sshd can run here, or None."""
    if not SSHD.exists():
        return f"no OpenSSH server at {SSHD} (apt-get install openssh-server)"
    for tool in ("ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"no `{tool}` on PATH (apt-get install openssh-client)"
    if shutil.which("docker") is None:  # the far side runs `docker system dial-stdio`
        return "no docker CLI on PATH for the far side's `docker system dial-stdio`"
    return None


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
                   check=True, capture_output=True)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_config(folder: Path, port: int) -> Path:
    config = folder / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {folder / 'host_key'}\n"
        f"PidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "StrictModes no\nUsePAM no\nLogLevel VERBOSE\n"
    )
    return config


def _client_config(folder: Path, port: int, closed_port: int) -> Path:
    user = getpass.getuser()
    host_key = (folder / "host_key.pub").read_text().split()
    (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    common = (
        f"  HostName 127.0.0.1\n  User {user}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {folder / 'known_hosts'}\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n"
    )
    config = folder / "ssh_config"
    config.write_text(
        f"Host {ALIAS}\n  Port {port}\n  IdentityFile {folder / 'client_key'}\n{common}"
        f"Host {BAD_KEY_ALIAS}\n  Port {port}\n  IdentityFile {folder / 'stranger_key'}\n{common}"
        f"Host {CLOSED_ALIAS}\n  Port {closed_port}\n  IdentityFile {folder / 'client_key'}\n{common}"
    )
    return config


def _wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text().strip()[-300:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on 127.0.0.1:{port} within 10 s")


@contextmanager
def running_sshd(folder: Path) -> Iterator[SshServer]:
    """sshd on a free loopback port, keys and configs in `folder`; stopped when the block is left."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("host_key", "client_key", "stranger_key"):
        _keygen(folder / name)
    (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
    port, closed_port = _free_port(), _free_port()
    if os.geteuid() == 0:  # sshd's privilege-separation folder, which a fresh install may lack
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = folder / "sshd.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(_server_config(folder, port))],
                                stdout=out, stderr=out, stdin=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_listening(proc, port, log)
        config = _client_config(folder, port, closed_port)
        yield SshServer(port, closed_port, config, folder / "client_key", folder / "stranger_key", log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
