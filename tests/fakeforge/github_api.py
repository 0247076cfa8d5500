"""The fake GitHub REST API (v3): the routes PyGithub calls for users, repositories, comments, statuses, PRs.

The git data and contents routes (the asset branch, files on main) are mixed in from github_git, commit
comments and the Actions artifact routes from github_commit_comments, check runs from github_checks. State
is plain dicts the tests read directly (`comments(repo, number)`, `repos[name].statuses`, `tree_of_branch`).
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakeforge.github_checks import CheckRunRoutes
from tests.fakeforge.github_commit_comments import CommitCommentRoutes
from tests.fakeforge.github_git import GitDataRoutes
from tests.fakeforge.github_repo import GitHubRepo, now
from tests.fakeforge.server import Request, Response, link_header, page_of, route

GITHUB_COMMENT_LIMIT = 65_536
STATUS_DESCRIPTION_LIMIT = 140
_R = r"/repos/([^/]+)/([^/]+)"
_NOT_FOUND = {"message": "Not Found"}


class FakeGitHub(GitDataRoutes, CommitCommentRoutes, CheckRunRoutes):
    """GitHub's routes under /api/v3. `ids` is shared by every object that needs a global id."""

    def __init__(self) -> None:
        self.repos: dict[str, GitHubRepo] = {}
        self.ids = itertools.count(1000)

    # ---- seeding and inspection (tests) --------------------------------------------------------------
    def add_repo(self, full_name: str) -> GitHubRepo:
        return self.repos.setdefault(full_name, GitHubRepo(full_name, next(self.ids)))

    def add_comment(self, full_name: str, number: int, login: str, body: str) -> int:
        return int(self._store_comment(self.repos[full_name], number, login, body)["id"])

    def add_pull(
        self,
        full_name: str,
        number: int,
        head_sha: str,
        state: str = "open",
        *,
        author: str = "alice",
        head_repo: str | None = None,
    ) -> None:
        pull = {"number": number, "head": head_sha, "state": state, "author": author, "head_repo": head_repo}
        self.repos[full_name].pulls.append(pull)

    def pull(self, full_name: str, number: int) -> dict[str, Any]:
        """The stored PR `number` (tests move its head or close it by editing the dict)."""
        return next(p for p in self.repos[full_name].pulls if p["number"] == number)

    def set_permission(self, full_name: str, login: str, role: str) -> None:
        self.repos[full_name].permissions[login] = role

    def reactions(self, full_name: str, comment_id: int | None = None) -> list[tuple[str, str]]:
        """(login, content) of the reactions, on one comment or on all."""
        found = self.repos[full_name].reactions
        return [(r["login"], r["content"]) for r in found if comment_id in (None, r["comment_id"])]

    def comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        repo = self.repos[full_name]
        return [c for c in sorted(repo.comments.values(), key=lambda c: c["id"]) if c["number"] == number]

    def tree_of_branch(self, full_name: str, branch: str) -> dict[str, bytes]:
        repo = self.repos[full_name]
        tree = repo.trees[repo.commits[repo.refs[f"refs/heads/{branch}"]]["tree"]]
        return {path: repo.blobs[sha] for path, sha in tree.items()}

    # ---- helpers ---------------------------------------------------------------------------------------
    def _repo(self, owner: str, name: str) -> GitHubRepo | None:
        return self.repos.get(f"{owner}/{name}")

    def _store_comment(self, repo: GitHubRepo, number: int, login: str, body: str) -> dict[str, Any]:
        comment_id = next(self.ids)
        stamp = now()
        repo.comments[comment_id] = {
            "id": comment_id,
            "number": number,
            "login": login,
            "body": body,
            "created_at": stamp,
            "updated_at": stamp,
        }
        return repo.comments[comment_id]

    def _comment_json(self, req: Request, repo: GitHubRepo, c: dict[str, Any]) -> dict[str, Any]:
        api = f"{req.base}/api/v3/repos/{repo.full_name}"
        user = {
            "login": c["login"],
            "id": abs(hash(c["login"])) % 10**6,
            "type": "Bot" if c["login"].endswith("[bot]") else "User",
        }
        return {
            "id": c["id"],
            "node_id": f"IC_{c['id']}",
            "url": f"{api}/issues/comments/{c['id']}",
            "html_url": f"{req.base}/{repo.full_name}/pull/{c['number']}#issuecomment-{c['id']}",
            "issue_url": f"{api}/issues/{c['number']}",
            "body": c["body"],
            "user": user,
            "created_at": c["created_at"],
            "updated_at": c["updated_at"],
            "author_association": "MEMBER",
        }

    @staticmethod
    def _denied(req: Request) -> Response | None:
        if req.token is None:
            return Response(401, {"message": "Bad credentials"})
        if req.method != "GET" and not req.token.write:
            return Response(403, {"message": "Resource not accessible by integration"})
        return None

    def _guard(self, req: Request, owner: str, name: str) -> tuple[GitHubRepo | None, Response | None]:
        denied = self._denied(req)
        if denied:
            return None, denied
        repo = self._repo(owner, name)
        return repo, (None if repo else Response(404, {"message": "Not Found"}))

    # ---- users and repositories -----------------------------------------------------------------------
    @route("GET", r"/user")
    def get_user(self, req: Request) -> Response:
        if req.token is None:
            return Response(401, {"message": "Bad credentials"})
        if not req.token.read_user:
            return Response(403, {"message": "Resource not accessible by integration"})
        return Response(200, {"login": req.token.login, "id": req.token.user_id, "type": "User"})

    @route("GET", _R)
    def get_repo(self, req: Request, owner: str, name: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        return Response(
            200,
            {
                "id": repo.id,
                "full_name": repo.full_name,
                "name": name,
                "private": True,
                "owner": {"login": owner},
                "default_branch": "main",
                "url": f"{req.base}/api/v3/repos/{repo.full_name}",
            },
        )

    # ---- issue comments --------------------------------------------------------------------------------
    @route("GET", _R + r"/issues/(\d+)/comments")
    def list_comments(self, req: Request, owner: str, name: str, number: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        visible = [
            c for c in self.comments(repo.full_name, int(number)) if not self._still_hidden(repo, c["id"])
        ]
        items, page, per_page, last = page_of(visible, req, default_per_page=30)
        return Response(
            200,
            [self._comment_json(req, repo, c) for c in items],
            {"Link": link_header(req, page, last, per_page)},
        )

    @staticmethod
    def _still_hidden(repo: GitHubRepo, comment_id: int) -> bool:
        left = repo.hidden.get(comment_id, 0)
        if left > 0:
            repo.hidden[comment_id] = left - 1
        return left > 0

    @route("POST", _R + r"/issues/(\d+)/comments")
    def create_comment(self, req: Request, owner: str, name: str, number: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None or req.token is None:
            return error or Response(404)
        body = req.json().get("body", "")
        if len(body) > GITHUB_COMMENT_LIMIT:
            return _too_long("IssueComment", "body", GITHUB_COMMENT_LIMIT)
        stored = self._store_comment(repo, int(number), req.token.login, body)
        if req.fault and req.fault.kind == "lag":
            repo.hidden[stored["id"]] = req.fault.listings
        return Response(201, self._comment_json(req, repo, stored))

    @route("GET", _R + r"/issues/comments/(\d+)")
    def get_comment(self, req: Request, owner: str, name: str, comment_id: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        found = repo.comments.get(int(comment_id))
        return (
            Response(200, self._comment_json(req, repo, found))
            if found
            else Response(404, {"message": "Not Found"})
        )

    @route("PATCH", _R + r"/issues/comments/(\d+)")
    def update_comment(self, req: Request, owner: str, name: str, comment_id: str) -> Response:
        repo, error = self._guard(req, owner, name)
        found = repo.comments.get(int(comment_id)) if repo else None
        if error or repo is None or found is None or req.token is None:
            return error or Response(404, {"message": "Not Found"})
        if found["login"] != req.token.login:
            return Response(403, {"message": "You cannot edit someone else's comment"})
        body = req.json().get("body", "")
        if len(body) > GITHUB_COMMENT_LIMIT:
            return _too_long("IssueComment", "body", GITHUB_COMMENT_LIMIT)
        found.update(body=body, updated_at=now())
        return Response(200, self._comment_json(req, repo, found))

    @route("DELETE", _R + r"/issues/comments/(\d+)")
    def delete_comment(self, req: Request, owner: str, name: str, comment_id: str) -> Response:
        repo, error = self._guard(req, owner, name)
        found = repo.comments.get(int(comment_id)) if repo else None
        if error or repo is None or found is None or req.token is None:
            return error or Response(404, {"message": "Not Found"})
        if found["login"] != req.token.login:
            return Response(403, {"message": "You cannot delete someone else's comment"})
        del repo.comments[int(comment_id)]
        return Response(204)

    # ---- statuses, commits, pulls ----------------------------------------------------------------------
    @route("POST", _R + r"/statuses/([0-9a-f]+)")
    def create_status(self, req: Request, owner: str, name: str, sha: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        data = req.json()
        if data.get("state") not in ("success", "failure", "pending", "error"):
            return Response(
                422, {"message": "Validation Failed", "errors": [{"field": "state", "code": "invalid"}]}
            )
        if len(data.get("description") or "") > STATUS_DESCRIPTION_LIMIT:
            return _too_long("Status", "description", STATUS_DESCRIPTION_LIMIT)
        status = {
            "id": next(self.ids),
            "sha": sha,
            "state": data["state"],
            "context": data.get("context", "default"),
            "description": data.get("description"),
            "target_url": data.get("target_url"),
            "created_at": now(),
            "url": f"{req.base}/api/v3/repos/{repo.full_name}/statuses/{sha}",
        }
        repo.statuses.append(status)
        return Response(201, status)

    @route("GET", _R + r"/commits/([0-9a-f]+)")
    def get_commit(self, req: Request, owner: str, name: str, sha: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        return Response(
            200,
            {
                "sha": sha,
                "url": f"{req.base}/api/v3/repos/{repo.full_name}/commits/{sha}",
                "commit": {"message": "change", "tree": {"sha": "0" * 40}},
                "parents": [],
            },
        )

    @route("GET", _R + r"/commits/([0-9a-f]+)/pulls")
    def pulls_of_commit(self, req: Request, owner: str, name: str, sha: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        found = [self._pull_json(req, repo, p) for p in repo.pulls if p["head"] == sha]
        items, page, per_page, last = page_of(found, req, default_per_page=30)
        return Response(200, items, {"Link": link_header(req, page, last, per_page)})

    @route("GET", _R + r"/pulls")
    def list_pulls(self, req: Request, owner: str, name: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        state, head = req.query.get("state", "open"), req.query.get("head")
        found = [p for p in repo.pulls if state in ("all", p["state"])]
        if head:
            found = [p for p in found if f"{owner}:pr-{p['number']}" == head]
        items, page, per_page, last = page_of([self._pull_json(req, repo, p) for p in found], req, 30)
        return Response(200, items, {"Link": link_header(req, page, last, per_page)})

    @route("GET", _R + r"/pulls/(\d+)")
    def get_pull(self, req: Request, owner: str, name: str, number: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        found = [p for p in repo.pulls if p["number"] == int(number)]
        return Response(200, self._pull_json(req, repo, found[0])) if found else Response(404, _NOT_FOUND)

    # ---- reactions and permissions -----------------------------------------------------------------------
    @route("POST", _R + r"/issues/comments/(\d+)/reactions")
    def create_reaction(self, req: Request, owner: str, name: str, comment_id: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None or req.token is None:
            return error or Response(404)
        if int(comment_id) not in repo.comments:
            return Response(404, _NOT_FOUND)
        content = req.json().get("content")
        if content not in ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"):
            return Response(422, {"message": "Validation Failed"})
        reaction = {"comment_id": int(comment_id), "login": req.token.login, "content": content}
        known = reaction in repo.reactions
        if not known:
            repo.reactions.append(reaction)
        user = {"login": req.token.login, "id": req.token.user_id}
        return Response(200 if known else 201, {"id": next(self.ids), "content": content, "user": user})

    @route("GET", _R + r"/collaborators/([^/]+)/permission")
    def get_permission(self, req: Request, owner: str, name: str, login: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        if repo.permission_api_forbidden:
            return Response(403, {"message": "Resource not accessible by integration"})
        role = repo.permissions.get(login, "read")
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        user = {"login": login, "id": abs(hash(login)) % 10**6, "type": "User"}
        return Response(200, {"permission": legacy, "role_name": role, "user": user})

    @staticmethod
    def _pull_json(req: Request, repo: GitHubRepo, pull: dict[str, Any]) -> dict[str, Any]:
        api = f"{req.base}/api/v3/repos/{repo.full_name}"
        owner = repo.full_name.split("/")[0]
        head_repo = pull.get("head_repo") or repo.full_name
        return {
            "id": pull["number"] * 7,
            "number": pull["number"],
            "state": "closed" if pull["state"] == "merged" else pull["state"],
            "merged": pull["state"] == "merged",
            "user": {"login": pull.get("author", "alice"), "id": 12, "type": "User"},
            "url": f"{api}/pulls/{pull['number']}",
            "html_url": f"{req.base}/{repo.full_name}/pull/{pull['number']}",
            "head": {
                "sha": pull["head"],
                "ref": f"pr-{pull['number']}",
                "label": f"{owner}:pr-{pull['number']}",
                "repo": {"full_name": head_repo, "name": head_repo.split("/")[1]},
            },
            "base": {"sha": "0" * 40, "ref": "main", "label": f"{owner}:main"},
        }


def _too_long(resource: str, field_name: str, limit: int) -> Response:
    return Response(
        422,
        {
            "message": "Validation Failed",
            "errors": [
                {
                    "resource": resource,
                    "code": "custom",
                    "field": field_name,
                    "message": f"{field_name} is too long (maximum is {limit} characters)",
                }
            ],
        },
    )
