"""Files CI uploaded as artifacts, read back over the forge's REST API (httpx): GitHub Actions, GitLab jobs.

    ArtifactClient (Protocol)            file_for(sha) → bytes | None
    ├── GitHubArtifacts    the default branch's successful workflow runs → the run of that commit → its
    │                      artifact NAME (a zip) → the file in it; the token needs `actions: read`
    └── GitLabArtifacts    `GET /projects/:id/jobs/artifacts/:ref/raw/:path?job=NAME`: the file from the
                           branch's latest successful pipeline, served for the commit it was made on

Nothing here reads the environment: the API URL, repository, token and branch are given. A missing artifact
(404) or a token without the permission is a warning and None; a forge that cannot be reached in time is an
ArtifactError (the store turns it into a BaselineError, exit 3).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import quote

TIMEOUT_S = 20.0
MAX_FILE_BYTES = 64 * 2**20
RUNS_PER_PAGE = 100

Warn = Callable[[str], None]


class ArtifactError(Exception):
    """The forge could not be reached or answered with something unusable; the message says which."""


class ArtifactClient(Protocol):
    """Where a CI artifact holding a baseline file may be fetched from."""

    where: str

    def file_for(self, sha: str) -> bytes | None:
        """The file uploaded by the default branch's successful CI run of `sha`, or None."""
        ...

    def latest_file(self) -> bytes | None:
        """The file of the default branch's newest successful CI run that has one, or None."""
        ...


class _Http:
    """One httpx client with a timeout, redirects followed (artifact downloads redirect to blob storage)."""

    def __init__(self, base: str, headers: dict[str, str], timeout: float, warn: Warn) -> None:
        self.base = base.rstrip("/")
        self.headers = headers
        self.timeout = timeout
        self.warn = warn

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any | None:
        """The response of GET `path` when it is 200; None (with a warning) on 401/403/404."""
        import httpx

        url = path if path.startswith(("http://", "https://")) else f"{self.base}{path}"
        try:
            # NOTE: httpx drops the Authorization header when a redirect leaves the API's origin, so the
            # token never reaches the storage host a download redirects to.
            response = httpx.get(
                url, params=params, headers=self.headers, timeout=self.timeout, follow_redirects=True
            )
        except httpx.TimeoutException:
            raise ArtifactError(f"GET {_no_query(url)}: no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise ArtifactError(f"GET {_no_query(url)}: {type(exc).__name__}: {exc}") from None
        return self._checked(response, url)

    def _checked(self, response: Any, url: str) -> Any | None:
        status = int(response.status_code)
        if status == 200:
            return response
        if status == 404:
            self.warn(f"baseline store ci-artifact: {_no_query(url)}: not found (404)")
        elif status in (401, 403):
            self.warn(
                f"baseline store ci-artifact: {_no_query(url)}: {status}: the token may not read CI "
                "artifacts (GitHub: `permissions: actions: read`; GitLab: read_api)"
            )
        else:
            raise ArtifactError(f"GET {_no_query(url)}: HTTP {status}")
        return None


def _no_query(url: str) -> str:
    return url.split("?", 1)[0]


class GitHubArtifacts:
    """Artifact `name` of the successful workflow runs on `branch` of `repo` (`owner/name`)."""

    def __init__(
        self,
        api_url: str,
        repo: str,
        token: str | None,
        branch: str,
        warn: Warn,
        *,
        name: str = "mlgate-baseline",
        member: str = "baseline.json",
        timeout: float = TIMEOUT_S,
    ) -> None:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = _Http(api_url, headers, timeout, warn)
        self.repo, self.branch, self.name, self.member = repo, branch, name, member
        self.where = f"GitHub artifact {name} of {repo}@{branch}"
        self._runs: dict[str, int] | None = None

    def runs(self) -> dict[str, int]:
        """head SHA → id of its newest successful run on the branch (one request, newest runs first)."""
        if self._runs is None:
            params = {"branch": self.branch, "status": "success", "per_page": RUNS_PER_PAGE}
            response = self.http.get(f"/repos/{self.repo}/actions/runs", params)
            runs = response.json().get("workflow_runs", []) if response is not None else []
            self._runs = {}
            for run in runs:
                self._runs.setdefault(str(run.get("head_sha")), int(run["id"]))
        return self._runs

    def file_for(self, sha: str) -> bytes | None:
        run_id = self.runs().get(sha)
        if run_id is None:
            return None
        response = self.http.get(f"/repos/{self.repo}/actions/runs/{run_id}/artifacts", {"name": self.name})
        artifacts = response.json().get("artifacts", []) if response is not None else []
        live = [a for a in artifacts if a.get("name") == self.name and not a.get("expired")]
        if not live:
            return None
        archive = self.http.get(str(live[0]["archive_download_url"]))
        return None if archive is None else _member(archive.content, self.member, self.where)

    def latest_file(self) -> bytes | None:
        """The newest successful run's file (runs are listed newest first); one older when it has none."""
        for sha in list(self.runs())[:2]:
            found = self.file_for(sha)
            if found is not None:
                return found
        return None


def _member(data: bytes, member: str, where: str) -> bytes:
    """One file of a zip archive (GitHub serves every artifact as a zip)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(member)
            if info.file_size > MAX_FILE_BYTES:
                raise ArtifactError(f"{where}: {member} is {info.file_size} bytes, over the limit")
            return archive.read(info)
    except KeyError:
        raise ArtifactError(f"{where}: the artifact has no {member}") from None
    except zipfile.BadZipFile:
        raise ArtifactError(f"{where}: the download is not a zip archive") from None


class GitLabArtifacts:
    """File `path` of job `job` in the latest successful pipeline of `branch` of `project` (id or path)."""

    def __init__(
        self,
        api_url: str,
        project: str,
        token: str | None,
        branch: str,
        warn: Warn,
        *,
        job: str = "mlgate",
        path: str = "baseline.json",
        job_token: bool = False,
        timeout: float = TIMEOUT_S,
    ) -> None:
        headers = {("JOB-TOKEN" if job_token else "PRIVATE-TOKEN"): token} if token else {}
        self.http = _Http(api_url, headers, timeout, warn)
        self.project, self.branch, self.job, self.path = project, branch, job, path
        self.where = f"GitLab artifact {path} of job {job} in {project}@{branch}"
        self._latest: bytes | None = None
        self._fetched = False

    def latest(self) -> bytes | None:
        """The file from the branch's latest successful pipeline (one request, kept)."""
        if not self._fetched:
            self._fetched = True
            project = quote(self.project, safe="")
            route = f"/projects/{project}/jobs/artifacts/{quote(self.branch, safe='')}/raw/{self.path}"
            response = self.http.get(route, {"job": self.job})
            self._latest = None if response is None else bytes(response.content)
        return self._latest

    def file_for(self, sha: str) -> bytes | None:
        # NOTE: this route serves only the branch's *latest* successful pipeline ("HEAD or SHA references
        # are not supported", GitLab job artifacts API); the store checks the snapshot's own SHA.
        return self.latest()

    def latest_file(self) -> bytes | None:
        return self.latest()
