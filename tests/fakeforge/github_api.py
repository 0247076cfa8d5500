"""The fake GitHub REST API (v3): the routes PyGithub calls for comments, statuses, PRs and the asset branch.

State is plain dicts the tests read directly (`comments(repo, number)`, `statuses`, `blobs`, `refs`).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakeforge.server import Request, Response, link_header, page_of, route

GITHUB_COMMENT_LIMIT = 65_536
STATUS_DESCRIPTION_LIMIT = 140
_R = r"/repos/([^/]+)/([^/]+)"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _git_sha(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


@dataclass
class GitHubRepo:
    """One repository's state."""

    full_name: str
    id: int
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    hidden: dict[int, int] = field(default_factory=dict)  # comment id → listings it is still missing from
    statuses: list[dict[str, Any]] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, dict[str, str]] = field(default_factory=dict)  # tree sha → {path: blob sha}
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/x" → commit sha
    pulls: list[dict[str, Any]] = field(default_factory=list)


class FakeGitHub:
    """GitHub's routes under /api/v3. `ids` is shared by every object that needs a global id."""

    def __init__(self) -> None:
        self.repos: dict[str, GitHubRepo] = {}
        self.ids = itertools.count(1000)

    # ---- seeding and inspection (tests) --------------------------------------------------------------
    def add_repo(self, full_name: str) -> GitHubRepo:
        return self.repos.setdefault(full_name, GitHubRepo(full_name, next(self.ids)))

    def add_comment(self, full_name: str, number: int, login: str, body: str) -> int:
        return self._store_comment(self.repos[full_name], number, login, body)["id"]

    def add_pull(self, full_name: str, number: int, head_sha: str, state: str = "open") -> None:
        self.repos[full_name].pulls.append({"number": number, "head": head_sha, "state": state})

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
        stamp = _now()
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
        found.update(body=body, updated_at=_now())
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
            "created_at": _now(),
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

    @staticmethod
    def _pull_json(req: Request, repo: GitHubRepo, pull: dict[str, Any]) -> dict[str, Any]:
        api = f"{req.base}/api/v3/repos/{repo.full_name}"
        owner = repo.full_name.split("/")[0]
        return {
            "id": pull["number"] * 7,
            "number": pull["number"],
            "state": pull["state"],
            "url": f"{api}/pulls/{pull['number']}",
            "html_url": f"{req.base}/{repo.full_name}/pull/{pull['number']}",
            "head": {
                "sha": pull["head"],
                "ref": f"pr-{pull['number']}",
                "label": f"{owner}:pr-{pull['number']}",
            },
            "base": {"sha": "0" * 40, "ref": "main", "label": f"{owner}:main"},
        }

    # ---- git data: blobs, trees, commits, refs; contents -----------------------------------------------
    @route("POST", _R + r"/git/blobs")
    def create_blob(self, req: Request, owner: str, name: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        data = req.json()
        raw = (
            base64.b64decode(data["content"])
            if data.get("encoding") == "base64"
            else data["content"].encode()
        )
        sha = self._put_blob(repo, raw)
        return Response(201, {"sha": sha, "url": f"{req.base}/api/v3/repos/{repo.full_name}/git/blobs/{sha}"})

    @staticmethod
    def _put_blob(repo: GitHubRepo, raw: bytes) -> str:
        sha = _git_sha("blob", raw)
        repo.blobs[sha] = raw
        return sha

    @route("POST", _R + r"/git/trees")
    def create_tree(self, req: Request, owner: str, name: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        data = req.json()
        entries = dict(repo.trees.get(data.get("base_tree") or "", {}))
        for item in data["tree"]:
            entries[item["path"]] = (
                item["sha"] if "sha" in item else self._put_blob(repo, item["content"].encode())
            )
        return Response(201, self._tree_json(req, repo, self._put_tree(repo, entries)))

    @staticmethod
    def _put_tree(repo: GitHubRepo, entries: dict[str, str]) -> str:
        sha = _git_sha("tree", repr(sorted(entries.items())).encode())
        repo.trees[sha] = entries
        return sha

    @staticmethod
    def _tree_json(req: Request, repo: GitHubRepo, sha: str) -> dict[str, Any]:
        items = [{"path": p, "mode": "100644", "type": "blob", "sha": b} for p, b in repo.trees[sha].items()]
        return {
            "sha": sha,
            "url": f"{req.base}/api/v3/repos/{repo.full_name}/git/trees/{sha}",
            "tree": items,
            "truncated": False,
        }

    @route("POST", _R + r"/git/commits")
    def create_git_commit(self, req: Request, owner: str, name: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        data = req.json()
        if data["tree"] not in repo.trees:
            return Response(422, {"message": "Tree SHA does not exist"})
        sha = self._put_commit(repo, data["tree"], list(data.get("parents", [])), data["message"])
        return Response(201, self._commit_json(req, repo, sha))

    @staticmethod
    def _put_commit(repo: GitHubRepo, tree: str, parents: list[str], message: str) -> str:
        sha = _git_sha("commit", f"{tree} {parents} {message} {len(repo.commits)}".encode())
        repo.commits[sha] = {"tree": tree, "parents": parents, "message": message}
        return sha

    @staticmethod
    def _commit_json(req: Request, repo: GitHubRepo, sha: str) -> dict[str, Any]:
        api = f"{req.base}/api/v3/repos/{repo.full_name}/git"
        commit = repo.commits[sha]
        who = {"name": "mlgate", "email": "mlgate@example.invalid", "date": _now()}
        return {
            "sha": sha,
            "url": f"{api}/commits/{sha}",
            "message": commit["message"],
            "author": who,
            "committer": who,
            "tree": {"sha": commit["tree"], "url": f"{api}/trees/{commit['tree']}"},
            "parents": [{"sha": p, "url": f"{api}/commits/{p}"} for p in commit["parents"]],
        }

    @route("GET", _R + r"/git/refs?/(heads/.+)")
    def get_ref(self, req: Request, owner: str, name: str, ref: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        sha = repo.refs.get(f"refs/{ref}")
        return (
            Response(200, self._ref_json(req, repo, f"refs/{ref}", sha))
            if sha
            else Response(404, {"message": "Not Found"})
        )

    @staticmethod
    def _ref_json(req: Request, repo: GitHubRepo, ref: str, sha: str) -> dict[str, Any]:
        api = f"{req.base}/api/v3/repos/{repo.full_name}/git"
        return {
            "ref": ref,
            "url": f"{api}/{ref}",
            "object": {"sha": sha, "type": "commit", "url": f"{api}/commits/{sha}"},
        }

    @route("POST", _R + r"/git/refs")
    def create_ref(self, req: Request, owner: str, name: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        data = req.json()
        if data["ref"] in repo.refs:
            return Response(422, {"message": "Reference already exists"})
        if data["sha"] not in repo.commits:
            return Response(422, {"message": "Object does not exist"})
        repo.refs[data["ref"]] = data["sha"]
        return Response(201, self._ref_json(req, repo, data["ref"], data["sha"]))

    @route("PATCH", _R + r"/git/refs/(heads/.+)")
    def update_ref(self, req: Request, owner: str, name: str, ref: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        data = req.json()
        old = repo.refs.get(f"refs/{ref}")
        if old is None:
            return Response(422, {"message": "Reference does not exist"})
        if not data.get("force") and old not in self._ancestors(repo, data["sha"]):
            return Response(422, {"message": "Update is not a fast forward"})
        repo.refs[f"refs/{ref}"] = data["sha"]
        return Response(200, self._ref_json(req, repo, f"refs/{ref}", data["sha"]))

    @staticmethod
    def _ancestors(repo: GitHubRepo, sha: str) -> set[str]:
        seen, todo = set(), [sha]
        while todo:
            current = todo.pop()
            if current in repo.commits and current not in seen:
                seen.add(current)
                todo.extend(repo.commits[current]["parents"])
        return seen

    @route("GET", _R + r"/contents/(.+)")
    def get_contents(self, req: Request, owner: str, name: str, path: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        head = repo.refs.get(f"refs/heads/{req.query.get('ref', 'main')}")
        if head is None:
            return Response(404, {"message": f"No commit found for the ref {req.query.get('ref')}"})
        blob = repo.trees[repo.commits[head]["tree"]].get(path)
        if blob is None:
            return Response(404, {"message": "Not Found"})
        return Response(200, self._content_json(req, repo, path, blob, with_content=True))

    @staticmethod
    def _content_json(
        req: Request, repo: GitHubRepo, path: str, blob: str, *, with_content: bool
    ) -> dict[str, Any]:
        api = f"{req.base}/api/v3/repos/{repo.full_name}"
        found: dict[str, Any] = {
            "type": "file",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": blob,
            "size": len(repo.blobs[blob]),
            "url": f"{api}/contents/{path}",
            "html_url": f"{req.base}/{repo.full_name}/blob/main/{path}",
            "git_url": f"{api}/git/blobs/{blob}",
            "download_url": None,
        }
        if with_content:
            found.update(content=base64.b64encode(repo.blobs[blob]).decode(), encoding="base64")
        return found

    @route("PUT", _R + r"/contents/(.+)")
    def put_contents(self, req: Request, owner: str, name: str, path: str) -> Response:
        repo, error = self._guard(req, owner, name)
        if error or repo is None:
            return error or Response(404)
        data = req.json()
        ref = f"refs/heads/{data.get('branch', 'main')}"
        head = repo.refs.get(ref)
        if head is None:
            return Response(404, {"message": f"Branch {data.get('branch')} not found"})
        entries = dict(repo.trees[repo.commits[head]["tree"]])
        if path in entries and data.get("sha") != entries[path]:
            return Response(422, {"message": 'Invalid request.\n\n"sha" wasn\'t supplied.'})
        entries[path] = self._put_blob(repo, base64.b64decode(data["content"]))
        commit = self._put_commit(repo, self._put_tree(repo, entries), [head], data["message"])
        repo.refs[ref] = commit
        content = self._content_json(req, repo, path, entries[path], with_content=False)
        return Response(201, {"content": content, "commit": self._commit_json(req, repo, commit)})


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
