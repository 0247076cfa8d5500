"""The fake GitHub's Checks API: create a check run, list a commit's, update one; only GitHub App tokens may
write (a PAT gets GitHub's 403 "You must authenticate via a GitHub App."), switchable per FakeGitHub."""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakeforge.github_repo import GitHubRepo, now
from tests.fakeforge.server import Request, Response, route

_R = r"/repos/([^/]+)/([^/]+)"
CHECK_OUTPUT_LIMIT = 65_535
_DOCS = "https://docs.github.com/rest/reference/checks#create-a-check-run"
_CONCLUSIONS = ("success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required")


class CheckRunRoutes:
    """Routes mixed into FakeGitHub, which provides `_guard`, `repos` and `ids`. `checks_need_app`: a
    non-App token's create answers 403 (as on GitHub); False lets any writing token create check runs."""

    repos: dict[str, GitHubRepo]
    ids: itertools.count[int]
    checks_need_app: bool = True

    def _guard(self, req: Request, owner: str, name: str) -> tuple[GitHubRepo | None, Response | None]:
        raise NotImplementedError

    def check_runs(self, full_name: str, sha: str | None = None) -> list[dict[str, Any]]:
        """The stored check runs (of commit `sha`, or all), oldest first."""
        return [c for c in self.repos[full_name].check_runs if sha in (None, c["head_sha"])]

    def _check_denied(self, req: Request) -> Response | None:
        if req.token is not None and self.checks_need_app and not req.token.app:
            message = "You must authenticate via a GitHub App."
            return Response(403, {"message": message, "documentation_url": _DOCS})
        if req.token is not None and not req.token.checks:
            return Response(403, {"message": "Resource not accessible by integration"})
        return None

    @route("POST", _R + r"/check-runs")
    def create_check_run(self, req: Request, owner: str, name: str) -> Response:
        repo, error = self._guard(req, owner, name)
        error = error or self._check_denied(req)
        if error or repo is None or req.token is None:
            return error or Response(404)
        data = req.json()
        if not data.get("name") or not data.get("head_sha"):
            return Response(422, {"message": 'Invalid request.\n\n"name", "head_sha" weren\'t supplied.'})
        invalid = _invalid(data)
        if invalid:
            return invalid
        check = {"id": next(self.ids), "app": req.token.login, "created_at": now(), "status": "queued"}
        check |= {key: data.get(key) for key in ("name", "head_sha", "details_url", "conclusion", "output")}
        check["status"] = "completed" if data.get("conclusion") else data.get("status", "queued")
        repo.check_runs.append(check)
        return Response(201, _json(req, repo, check))

    @route("PATCH", _R + r"/check-runs/(\d+)")
    def update_check_run(self, req: Request, owner: str, name: str, check_id: str) -> Response:
        repo, error = self._guard(req, owner, name)
        error = error or self._check_denied(req)
        found = next((c for c in repo.check_runs if c["id"] == int(check_id)), None) if repo else None
        if error or repo is None or found is None or req.token is None:
            return error or Response(404, {"message": "Not Found"})
        if found["app"] != req.token.login:
            return Response(403, {"message": "Invalid OAuth application credentials"})
        data = req.json()
        invalid = _invalid(data)
        if invalid:
            return invalid
        found.update({k: v for k, v in data.items() if k in ("details_url", "conclusion", "output")})
        return Response(200, _json(req, repo, found))

    @route("GET", _R + r"/commits/([0-9a-f]+)/check-runs")
    def list_check_runs(self, req: Request, owner: str, name: str, sha: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        wanted = req.query.get("check_name")
        found = [c for c in self.check_runs(repo.full_name, sha) if wanted in (None, c["name"])]
        runs = [_json(req, repo, c) for c in reversed(found)]  # newest first, as GitHub lists them
        return Response(200, {"total_count": len(runs), "check_runs": runs})


def _invalid(data: dict[str, Any]) -> Response | None:
    if data.get("conclusion") not in (None, *_CONCLUSIONS):
        return Response(422, {"message": "Validation Failed", "errors": [{"field": "conclusion"}]})
    output = data.get("output") or {}
    for field_name in ("summary", "text"):
        size = len(str(output.get(field_name) or "").encode())
        if size > CHECK_OUTPUT_LIMIT:
            allowed = f"Only {CHECK_OUTPUT_LIMIT} characters are allowed; {size} were supplied."
            message = f"Invalid request.\n\n{allowed}"
            return Response(422, {"message": message, "documentation_url": _DOCS})
    if output and not (output.get("title") and output.get("summary")):
        return Response(422, {"message": 'Invalid request.\n\n"title", "summary" weren\'t supplied.'})
    return None


def _json(req: Request, repo: GitHubRepo, check: dict[str, Any]) -> dict[str, Any]:
    api = f"{req.base}/api/v3/repos/{repo.full_name}"
    return {
        "id": check["id"], "name": check["name"], "head_sha": check["head_sha"], "status": check["status"],
        "conclusion": check["conclusion"], "details_url": check["details_url"], "output": check["output"],
        "url": f"{api}/check-runs/{check['id']}",
        "html_url": f"{req.base}/{repo.full_name}/runs/{check['id']}",
        "app": {"slug": check["app"].removesuffix("[bot]"), "name": check["app"]},
        "started_at": check["created_at"], "completed_at": check["created_at"],
    }  # fmt: skip
