"""The fake forge's HTTP layer: a loopback ThreadingHTTPServer, routing, faults, and the request log.

GitHub routes live under `/api/v3` (as on GitHub Enterprise) and GitLab routes under `/api/v4`, on one port.
State changes happen under one lock, so concurrent clients see a consistent, serialised forge.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


@dataclass
class TokenInfo:
    """Who a token is and what it may do; tests refer to tokens only through `login`. `app`: a GitHub App
    installation token (may create check runs); `checks`: it was granted `checks: write`."""

    login: str
    user_id: int
    read_user: bool = True
    write: bool = True
    app: bool = False
    checks: bool = True


@dataclass
class Fault:
    """One injected misbehaviour, used by the first `times` requests whose method and path match."""

    method: str
    path: str
    kind: str  # "error" | "reset" | "slow" | "lag"
    status: int = 502
    after_store: bool = False
    retry_after: float | None = None
    seconds: float = 0.0
    listings: int = 0
    times: int = 1
    message: str | None = None

    @classmethod
    def error_before(
        cls, method: str, path: str, status: int = 502, times: int = 1, message: str | None = None
    ) -> Fault:
        """The client gets `status` (with `message`, if given) and nothing is stored."""
        return cls(method, path, "error", status=status, times=times, message=message)

    @classmethod
    def error_after(cls, method: str, path: str, status: int = 502, times: int = 1) -> Fault:
        """The write is stored, then the client gets `status` as if it failed."""
        return cls(method, path, "error", status=status, after_store=True, times=times)

    @classmethod
    def reset(cls, method: str, path: str, times: int = 1) -> Fault:
        return cls(method, path, "reset", times=times)

    @classmethod
    def rate_limited(
        cls, method: str, path: str, retry_after: float, status: int = 429, times: int = 1
    ) -> Fault:
        return cls(method, path, "error", status=status, retry_after=retry_after, times=times)

    @classmethod
    def slow(cls, method: str, path: str, seconds: float, times: int = 1) -> Fault:
        return cls(method, path, "slow", seconds=seconds, times=times)

    @classmethod
    def lag(cls, method: str, path: str, listings: int, times: int = 1) -> Fault:
        """A comment created by the matching request is missing from the next `listings` listings."""
        return cls(method, path, "lag", listings=listings, times=times)

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method == method and re.search(self.path, path) is not None


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it. `token_id` is the token's login (never the token itself)."""

    method: str
    path: str
    query: dict[str, str]
    body: str
    token_id: str
    status: int

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


@dataclass
class Request:
    """What a route handler gets."""

    method: str
    path: str
    segments: list[str]
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]
    token: TokenInfo | None
    base: str
    fault: Fault | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is (a file download) instead of the JSON payload

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return b"" if self.payload is None else json.dumps(self.payload).encode()


Route = tuple[str, re.Pattern[str], Callable[..., Response]]


def route(method: str, pattern: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Mark a method of an API class as the handler of `method` on paths matching `pattern` (full match)."""

    def mark(handler: Callable[..., Response]) -> Callable[..., Response]:
        handler.__dict__["route"] = (method, re.compile(pattern))
        return handler

    return mark


def routes_of(api: object) -> list[Route]:
    found = []
    for name in dir(type(api)):
        marked = getattr(getattr(type(api), name), "route", None)
        if marked is not None:
            found.append((marked[0], marked[1], getattr(api, name)))
    return found


def page_of(
    items: list[Any], req: Request, default_per_page: int, max_per_page: int = 100
) -> tuple[list[Any], int, int, int]:
    """(items of the page, page, per_page, last page) for `page`/`per_page` in the query."""
    per_page = max(1, min(int(req.query.get("per_page", default_per_page)), max_per_page))
    page = max(1, int(req.query.get("page", 1)))
    last = max(1, -(-len(items) // per_page))
    return items[(page - 1) * per_page : page * per_page], page, per_page, last


def link_header(req: Request, page: int, last: int, per_page: int) -> str:
    """An RFC 8288 Link header with next/prev/first/last, as both forges send."""

    def url(number: int) -> str:
        query = {**req.query, "page": str(number), "per_page": str(per_page)}
        return f"{req.base}{req.path}?" + "&".join(f"{k}={v}" for k, v in query.items())

    links = []
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
    if page > 1:
        links.append(f'<{url(page - 1)}>; rel="prev"')
    links += [f'<{url(1)}>; rel="first"', f'<{url(last)}>; rel="last"']
    return ", ".join(links)


class FakeForgeServer(ThreadingHTTPServer):
    """The loopback server; `apis` maps a path prefix (`/api/v3`) to an API object with @route methods."""

    daemon_threads = True

    def __init__(self, apis: dict[str, object], tokens: dict[str, TokenInfo]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.RLock()
        self.tokens = tokens
        self.faults: list[Fault] = []
        self.log: list[RequestRecord] = []
        self.routes = {prefix: routes_of(api) for prefix, api in apis.items()}
        self.rate_remaining = 5000

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet: faults reset sockets
        return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response: headers and body in one segment (no Nagle/delayed-ACK stall)
    server: FakeForgeServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def finish(self) -> None:
        try:
            super().finish()
        except (OSError, ValueError):
            return

    def _serve(self) -> None:
        req = self._request()
        fault = self.server.take_fault(req.method, req.path)
        req.fault = fault
        if fault and fault.kind == "reset":
            self._record(req, 0)
            self._reset()
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault and fault.kind == "error" and not fault.after_store:
            self._send(req, self._fault_response(fault))
            return
        response = self._dispatch(req)
        if fault and fault.kind == "error":
            response = self._fault_response(fault)
        self._send(req, response)

    def _request(self) -> Request:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        return Request(
            method=self.command,
            path=parts.path,
            segments=[unquote(s) for s in parts.path.split("/") if s],
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            body=body,
            headers=headers,
            token=self.server.tokens.get(_token_of(headers) or ""),
            base=self.server.base,
        )

    def _dispatch(self, req: Request) -> Response:
        for prefix, routes in self.server.routes.items():
            if not req.path.startswith(prefix + "/"):
                continue
            rest = req.path[len(prefix) :]
            for method, pattern, handler in routes:
                found = pattern.fullmatch(rest)
                if found and method == req.method:
                    with self.server.lock:
                        return handler(req, *[unquote(g) for g in found.groups()])
        return Response(404, {"message": "Not Found"})

    def _fault_response(self, fault: Fault) -> Response:
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
            headers["X-RateLimit-Remaining"] = "0"
            headers["X-RateLimit-Reset"] = str(int(time.time() + fault.retry_after))
        message = fault.message or (
            "API rate limit exceeded" if fault.retry_after is not None else "Bad Gateway"
        )
        return Response(fault.status, {"message": message}, headers)

    def _send(self, req: Request, response: Response) -> None:
        data = response.encoded()
        self.send_response(response.status)
        kind = "application/octet-stream" if response.raw is not None else "application/json; charset=utf-8"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in {**self._rate_headers(), **response.headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if req.method != "HEAD":
            self.wfile.write(data)
        self._record(req, response.status)

    def _rate_headers(self) -> dict[str, str]:
        with self.server.lock:
            self.server.rate_remaining = max(self.server.rate_remaining - 1, 0)
            remaining = self.server.rate_remaining
        reset = str(int(time.time()) + 3600)
        return {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset,
            "RateLimit-Limit": "2000",
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": reset,
        }

    def _record(self, req: Request, status: int) -> None:
        token_id = (
            req.token.login if req.token else ("anonymous" if _token_of(req.headers) is None else "invalid")
        )
        record = RequestRecord(
            req.method, req.path, req.query, req.body.decode("utf-8", "replace"), token_id, status
        )
        with self.server.lock:
            self.server.log.append(record)

    def _reset(self) -> None:
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


def _token_of(headers: dict[str, str]) -> str | None:
    """A request's token: `Authorization: token|Bearer X` (GitHub), `PRIVATE-TOKEN`/`JOB-TOKEN` (GitLab)."""
    for name in ("private-token", "job-token"):
        if name in headers:
            return headers[name]
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() in ("token", "bearer") and value else None
