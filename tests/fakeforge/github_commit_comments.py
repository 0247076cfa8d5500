"""The fake GitHub's commit comments (`/repos/O/R/commits/SHA/comments`, `/repos/O/R/comments/ID`) and
the Actions routes the ci-artifact baseline store reads (a branch's successful runs, artifacts, the zip)."""

from __future__ import annotations

import io
import itertools
import zipfile
from typing import Any

from tests.fakeforge.github_repo import GitHubRepo, now
from tests.fakeforge.server import Request, Response, link_header, page_of, route

_R = r"/repos/([^/]+)/([^/]+)"
_NOT_FOUND = {"message": "Not Found"}


class CommitCommentRoutes:
    """Routes mixed into FakeGitHub, which provides `_guard`, `repos` and `ids`."""

    repos: dict[str, GitHubRepo]
    ids: itertools.count[int]

    def _guard(self, req: Request, owner: str, name: str) -> tuple[GitHubRepo | None, Response | None]:
        raise NotImplementedError

    # ---- seeding and inspection (tests) --------------------------------------------------------------
    def add_commit_comment(self, full_name: str, sha: str, login: str, body: str) -> int:
        return int(self._store_commit_comment(self.repos[full_name], sha, login, body)["id"])

    def commit_comments(self, full_name: str, sha: str) -> list[dict[str, Any]]:
        found = self.repos[full_name].commit_comments.values()
        return sorted((c for c in found if c["sha"] == sha), key=lambda c: c["id"])

    def add_run(self, full_name: str, head_sha: str, artifacts: dict[str, dict[str, bytes]]) -> int:
        """A successful Actions run on `main` of `head_sha` with artifacts {name: {member: bytes}}."""
        run_id = next(self.ids)
        run = {"id": run_id, "head_sha": head_sha, "branch": "main", "artifacts": artifacts}
        self.repos[full_name].runs.insert(0, run)
        return run_id

    def _store_commit_comment(self, repo: GitHubRepo, sha: str, login: str, body: str) -> dict[str, Any]:
        comment_id = next(self.ids)
        comment: dict[str, Any] = {"id": comment_id, "sha": sha, "login": login, "body": body}
        comment |= {"created_at": now(), "updated_at": now()}
        repo.commit_comments[comment_id] = comment
        return comment

    @staticmethod
    def _commit_comment_json(req: Request, repo: GitHubRepo, c: dict[str, Any]) -> dict[str, Any]:
        user = {"login": c["login"], "id": abs(hash(c["login"])) % 10**6, "type": "User"}
        return {
            "id": c["id"], "node_id": f"CC_{c['id']}", "commit_id": c["sha"], "body": c["body"], "user": user,
            "url": f"{req.base}/api/v3/repos/{repo.full_name}/comments/{c['id']}",
            "html_url": f"{req.base}/{repo.full_name}/commit/{c['sha']}#commitcomment-{c['id']}",
            "created_at": c["created_at"], "updated_at": c["updated_at"], "path": None, "line": None,
        }  # fmt: skip

    # ---- commit comments -------------------------------------------------------------------------------
    @route("GET", _R + r"/commits/([0-9a-f]+)/comments")
    def list_commit_comments(self, req: Request, owner: str, name: str, sha: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        found = [self._commit_comment_json(req, repo, c) for c in self.commit_comments(repo.full_name, sha)]
        items, page, per_page, last = page_of(found, req, default_per_page=30)
        return Response(200, items, {"Link": link_header(req, page, last, per_page)})

    @route("POST", _R + r"/commits/([0-9a-f]+)/comments")
    def create_commit_comment(self, req: Request, owner: str, name: str, sha: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None or req.token is None:
            return error or Response(404)
        stored = self._store_commit_comment(repo, sha, req.token.login, req.json().get("body", ""))
        return Response(201, self._commit_comment_json(req, repo, stored))

    @route("PATCH", _R + r"/comments/(\d+)")
    def update_commit_comment(self, req: Request, owner: str, name: str, comment_id: str) -> Response:
        repo, found, error = self._own_commit_comment(req, owner, name, comment_id)
        if error or repo is None or found is None:
            return error or Response(404, _NOT_FOUND)
        found.update(body=req.json().get("body", ""), updated_at=now())
        return Response(200, self._commit_comment_json(req, repo, found))

    @route("DELETE", _R + r"/comments/(\d+)")
    def delete_commit_comment(self, req: Request, owner: str, name: str, comment_id: str) -> Response:
        repo, found, error = self._own_commit_comment(req, owner, name, comment_id)
        if error or repo is None or found is None:
            return error or Response(404, _NOT_FOUND)
        del repo.commit_comments[found["id"]]
        return Response(204)

    def _own_commit_comment(
        self, req: Request, owner: str, name: str, comment_id: str
    ) -> tuple[GitHubRepo | None, dict[str, Any] | None, Response | None]:
        repo, error = self._guard(req, owner, name)
        found = repo.commit_comments.get(int(comment_id)) if repo else None
        if error or found is None or req.token is None:
            return None, None, error or Response(404, _NOT_FOUND)
        if found["login"] != req.token.login:
            return None, None, Response(403, {"message": "You cannot edit someone else's comment"})
        return repo, found, None

    # ---- Actions runs and artifacts --------------------------------------------------------------------
    @route("GET", _R + r"/actions/runs")
    def list_runs(self, req: Request, owner: str, name: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        branch = req.query.get("branch")
        runs = [{"id": r["id"], "head_sha": r["head_sha"], "head_branch": r["branch"]}
                for r in repo.runs if branch in (None, r["branch"])]  # fmt: skip
        return Response(200, {"total_count": len(runs), "workflow_runs": runs})

    @route("GET", _R + r"/actions/runs/(\d+)/artifacts")
    def list_artifacts(self, req: Request, owner: str, name: str, run_id: str) -> Response:
        repo, error = self._guard(req, owner, name)
        run = next((r for r in repo.runs if r["id"] == int(run_id)), None) if repo else None
        if error or repo is None or run is None:
            return error or Response(404, _NOT_FOUND)
        api = f"{req.base}/api/v3/repos/{repo.full_name}/actions/artifacts"
        found = [{"id": run["id"] * 10 + i, "name": n, "expired": False,
                  "archive_download_url": f"{api}/{run['id'] * 10 + i}/zip"}
                 for i, n in enumerate(run["artifacts"]) if req.query.get("name") in (None, n)]  # fmt: skip
        return Response(200, {"total_count": len(found), "artifacts": found})

    @route("GET", _R + r"/actions/artifacts/(\d+)/zip")
    def download_artifact(self, req: Request, owner: str, name: str, artifact_id: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        run_id, index = divmod(int(artifact_id), 10)
        run = next((r for r in repo.runs if r["id"] == run_id), None)
        if run is None or index >= len(run["artifacts"]):
            return Response(404, _NOT_FOUND)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for member, data in list(run["artifacts"].values())[index].items():
                archive.writestr(member, data)
        return Response(200, raw=buffer.getvalue())
