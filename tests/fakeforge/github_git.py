"""The fake GitHub's git data routes (blobs, trees, commits, refs) and the contents API: the asset branch."""

from __future__ import annotations

import base64
from typing import Any

from tests.fakeforge.github_repo import GitHubRepo, git_sha, now
from tests.fakeforge.server import Request, Response, route

_R = r"/repos/([^/]+)/([^/]+)"


class GitDataRoutes:
    """Routes mixed into FakeGitHub, which provides `_guard` (token check + repository lookup)."""

    def _guard(self, req: Request, owner: str, name: str) -> tuple[GitHubRepo | None, Response | None]:
        raise NotImplementedError

    def add_file(self, full_name: str, path: str, data: bytes, branch: str = "main") -> str:
        """Commit `path` with `data` onto `branch` of the fake repository (made if new); returns the SHA."""
        repo = self.repos[full_name]  # type: ignore[attr-defined]
        head = repo.refs.get(f"refs/heads/{branch}")
        entries = dict(repo.trees[repo.commits[head]["tree"]]) if head else {}
        entries[path] = self._put_blob(repo, data)
        commit = self._put_commit(repo, self._put_tree(repo, entries), [head] if head else [], f"add {path}")
        repo.refs[f"refs/heads/{branch}"] = commit
        return commit

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
        sha = git_sha("blob", raw)
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
        sha = git_sha("tree", repr(sorted(entries.items())).encode())
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
        sha = git_sha("commit", f"{tree} {parents} {message} {len(repo.commits)}".encode())
        repo.commits[sha] = {"tree": tree, "parents": parents, "message": message}
        return sha

    @staticmethod
    def _commit_json(req: Request, repo: GitHubRepo, sha: str) -> dict[str, Any]:
        api = f"{req.base}/api/v3/repos/{repo.full_name}/git"
        commit = repo.commits[sha]
        who = {"name": "mlgate", "email": "mlgate@example.invalid", "date": now()}
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
