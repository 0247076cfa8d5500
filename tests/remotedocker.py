"""The local Docker daemon standing in for one on another machine, and the training containers a test left.

`forward_tcp()` is `tcp://127.0.0.1:PORT`, each connection piped to the daemon's unix socket (the ssh://
road is `tests.sshd`). `leftover_containers(marker)` finds mlgate's training containers whose environment
carries `MARK=marker`: one test's, not another run's on the same daemon.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Iterator

from mlgate.training.docker import LABEL

DOCKER_SOCKET = "/var/run/docker.sock"
MARK = "MLGATE_TEST_RUN"


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


class _Forward(socketserver.BaseRequestHandler):
    """One TCP connection piped both ways to the daemon's unix socket."""

    def handle(self) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            upstream.connect(DOCKER_SOCKET)
            back = threading.Thread(target=_pipe, args=(upstream, self.request), daemon=True)
            back.start()
            _pipe(self.request, upstream)
            back.join(timeout=10)


@contextlib.contextmanager
def forward_tcp() -> Iterator[str]:
    """`tcp://127.0.0.1:PORT` to the local daemon for the `with` block."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Forward)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def leftover_containers(marker: str) -> list[str]:
    """mlgate's training containers that carry `MARK=marker`."""
    from docker.client import DockerClient

    client = DockerClient.from_env()
    try:
        found = client.containers.list(all=True, filters={"label": LABEL})
        return [c.id for c in found if f"{MARK}={marker}" in (c.attrs["Config"].get("Env") or [])]
    finally:
        client.close()
