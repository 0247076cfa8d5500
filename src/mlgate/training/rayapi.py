"""The Ray dashboard's REST API as mlgate uses it, through httpx (no Ray install on the runner).

Routes (checked against Ray 2.60's `dashboard/modules/job/job_head.py` and `state/state_head.py`):

    GET  /api/version                          is it a Ray dashboard; the Ray version
    GET  /api/v0/nodes                         nodes with `state` and `resources_total` (the state API)
    GET  /api/packages/gcs/<name>.zip          200 when the package is in the GCS, 404 when not
    PUT  /api/packages/gcs/<name>.zip          upload the zip (body: its bytes)
    POST /api/jobs/                            submit: entrypoint, submission_id, runtime_env, entrypoint_*
    GET  /api/jobs/<id>                        status, message, error_type, times, driver_node_id, exit code
    GET  /api/jobs/<id>/logs                   the whole log so far as {"logs": "..."}
    POST /api/jobs/<id>/stop                   ask the job to stop (SIGTERM, then SIGKILL after a grace)

`/api/jobs/<id>/logs/tail` is a websocket, which httpx does not speak; the log is polled instead. With token
authentication on (`RAY_AUTH_MODE=token`) every request carries `Authorization: Bearer <token>`. Every request
has a timeout; GETs are retried on transport errors (they change nothing), POST and PUT never are.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from mlgate.errors import ConfigError, TrainingError

if TYPE_CHECKING:
    import httpx

TIMEOUT_S = 10.0
UPLOAD_TIMEOUT_S = 300.0
GET_ATTEMPTS = 3


def dashboard_url(address: str) -> str:
    """The http(s) URL of the dashboard; `host:port` gets `http://`; `ray://` (Ray Client) is refused."""
    text = address.strip().rstrip("/")
    if text.startswith("ray://"):
        raise ConfigError(
            "train.ray.address", f"{public_address(text)} is a Ray Client address",
            hint="use the dashboard's address instead, e.g. http://<head>:8265",
        )  # fmt: skip
    return text if "://" in text else f"http://{text}"


def public_address(url: str) -> str:
    """The address without user, password or query: safe to print and to keep in the run record."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class JobsClient:
    """One Ray cluster's dashboard; a failure to reach it is a TrainingError (exit 3) naming the address."""

    def __init__(self, url: str, token: str | None) -> None:
        import httpx

        self.address = public_address(url)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url, headers=headers, timeout=TIMEOUT_S)

    def close(self) -> None:
        self._http.close()

    def version(self) -> Mapping[str, Any]:
        body = self._json("GET", "/api/version")
        if not isinstance(body, dict) or "ray_version" not in body:
            raise self._error("does not answer like a Ray dashboard (GET /api/version)")
        return body

    def nodes(self) -> list[Mapping[str, Any]]:
        body = self._json("GET", "/api/v0/nodes", params={"limit": 10000, "detail": "false"})
        return list(body.get("data", {}).get("result", {}).get("result", []))

    def has_package(self, name: str) -> bool:
        response = self._send("GET", f"/api/packages/gcs/{name}")
        if response.status_code not in (200, 404):
            raise self._status_error(response, "GET /api/packages")
        return response.status_code == 200

    def upload(self, name: str, data: bytes) -> None:
        response = self._send("PUT", f"/api/packages/gcs/{name}", content=data, timeout=UPLOAD_TIMEOUT_S)
        if response.status_code != 200:
            raise self._status_error(response, "PUT /api/packages")

    def submit(self, request: Mapping[str, Any]) -> str:
        response = self._send("POST", "/api/jobs/", json=dict(request))
        if response.status_code != 200:
            raise self._status_error(response, "POST /api/jobs/")
        return str(response.json()["submission_id"])

    def job(self, job_id: str) -> Mapping[str, Any]:
        body: Mapping[str, Any] = self._json("GET", f"/api/jobs/{job_id}")
        return body

    def logs(self, job_id: str) -> str:
        return str(self._json("GET", f"/api/jobs/{job_id}/logs").get("logs", ""))

    def stop(self, job_id: str) -> None:
        self._send("POST", f"/api/jobs/{job_id}/stop")

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if response.status_code != 200:
            raise self._status_error(response, f"{method} {path}")
        try:
            return response.json()
        except ValueError:
            raise self._error(f"answered {method} {path} with something that is not JSON") from None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        attempts = GET_ATTEMPTS if method == "GET" else 1
        for attempt in range(attempts):
            try:
                return self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt + 1 == attempts:
                    raise self._error(f"cannot be reached ({type(exc).__name__}: {exc})") from None
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def _status_error(self, response: httpx.Response, what: str) -> TrainingError:
        if response.status_code in (401, 403):
            return self._error(
                f"refused {what} ({response.status_code})",
                hint="the cluster uses token authentication: set train.ray.token_env to the variable "
                "that holds the token",
            )
        last = (response.text.strip().splitlines() or [""])[-1][:300]
        return self._error(f"answered {what} with {response.status_code}: {last}")

    def _error(self, what: str, hint: str | None = None) -> TrainingError:
        return TrainingError(
            "train.ray.address",
            f"the Ray dashboard at {self.address} {what}",
            hint=hint
            or f"is a Ray head node running with its dashboard at {self.address}? "
            "train.ray.address (or RAY_ADDRESS) is the dashboard's address, e.g. http://<head>:8265",
        )
