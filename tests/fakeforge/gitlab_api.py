"""The fake GitLab REST API (v4): the routes python-gitlab calls for MR notes, statuses, uploads and MRs.

Projects are found by numeric id or by URL-encoded path (`group%2Fproject`), as on GitLab. Notes list newest
first unless `sort=asc` is asked, as GitLab does.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from tests.fakeforge.gitlab_threads import ThreadRoutes
from tests.fakeforge.server import Request, Response, link_header, page_of, route

GITLAB_NOTE_LIMIT = 1_000_000
GITLAB_STATES = ("pending", "running", "success", "failed", "canceled", "skipped")
_P = r"/projects/([^/]+)"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class GitLabProject:
    """One project's state."""

    id: int
    path: str
    notes: dict[int, dict[str, Any]] = field(default_factory=dict)
    hidden: dict[int, int] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    mrs: list[dict[str, Any]] = field(default_factory=list)
    members: dict[str, int] = field(default_factory=dict)  # username → access level (30 Developer, …)
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (ref, path) → content


class FakeGitLab(ThreadRoutes):
    """GitLab's routes under /api/v4 (issue notes, commit discussions and files: gitlab_threads)."""

    def __init__(self) -> None:
        self.projects: dict[int, GitLabProject] = {}
        self.ids = itertools.count(5000)

    # ---- seeding and inspection (tests) --------------------------------------------------------------
    def add_project(self, path: str, project_id: int = 7) -> GitLabProject:
        return self.projects.setdefault(project_id, GitLabProject(project_id, path))

    def add_mr(self, path: str, iid: int, sha: str, state: str = "opened", *, author: str = "alice") -> None:
        versions = [{"id": next(self.ids), "head_commit_sha": sha, "created_at": _now()}]
        mr = {"iid": iid, "sha": sha, "state": state, "author": author, "versions": versions}
        self._by_path(path).mrs.append(mr)

    def push_mr(self, path: str, iid: int, sha: str, *, at: str | None = None) -> None:
        """A new head on MR `iid`: a new diff version (created `at`, default now)."""
        mr = next(m for m in self._by_path(path).mrs if m["iid"] == iid)
        mr["sha"] = sha
        mr["versions"].insert(0, {"id": next(self.ids), "head_commit_sha": sha, "created_at": at or _now()})

    def set_member(self, path: str, username: str, access_level: int) -> None:
        self._by_path(path).members[username] = access_level

    def add_note(self, path: str, iid: int, username: str, body: str, *, system: bool = False) -> int:
        return int(self._store_note(self._by_path(path), iid, username, body, system=system)["id"])

    def notes(self, path: str, iid: int) -> list[dict[str, Any]]:
        project = self._by_path(path)
        return self._notes_of(project, "mr", iid)

    @staticmethod
    def _note_in(
        project: GitLabProject | None, noteable: str, iid: str, note_id: str
    ) -> dict[str, Any] | None:
        note = project.notes.get(int(note_id)) if project else None
        ok = note is not None and note["iid"] == int(iid) and note["noteable"] == noteable
        return note if ok else None

    def _notes_of(self, project: GitLabProject, noteable: str, iid: int) -> list[dict[str, Any]]:
        found = sorted(project.notes.values(), key=lambda n: n["id"])
        return [n for n in found if n["iid"] == iid and n.get("noteable", "mr") == noteable]

    def project(self, path: str) -> GitLabProject:
        return self._by_path(path)

    # ---- helpers ---------------------------------------------------------------------------------------
    def _by_path(self, path: str) -> GitLabProject:
        return next(p for p in self.projects.values() if p.path == path)

    def _find(self, ref: str) -> GitLabProject | None:
        if ref.isdigit():
            return self.projects.get(int(ref))
        return next((p for p in self.projects.values() if p.path == ref), None)

    def _store_note(
        self,
        project: GitLabProject,
        iid: int,
        username: str,
        body: str,
        *,
        system: bool = False,
        noteable: str = "mr",
    ) -> dict[str, Any]:
        note_id = next(self.ids)
        stamp = _now()
        project.notes[note_id] = {
            "id": note_id,
            "iid": iid,
            "username": username,
            "body": body,
            "created_at": stamp,
            "updated_at": stamp,
            "system": system,
            "noteable": noteable,
        }
        return project.notes[note_id]

    @staticmethod
    def _note_json(note: dict[str, Any]) -> dict[str, Any]:
        author = {
            "id": abs(hash(note["username"])) % 10**6,
            "username": note["username"],
            "name": note["username"],
        }
        return {
            "id": note["id"],
            "type": None,
            "body": note["body"],
            "author": author,
            "system": note["system"],
            "created_at": note["created_at"],
            "updated_at": note["updated_at"],
            "noteable_type": "MergeRequest",
            "noteable_iid": note["iid"],
            "resolvable": False,
        }

    def _guard(
        self, req: Request, ref: str, *, notes: bool = False
    ) -> tuple[GitLabProject | None, Response | None]:
        if req.token is None or (notes and "job-token" in req.headers):
            return None, Response(401, {"message": "401 Unauthorized"})
        if req.method != "GET" and not req.token.write:
            return None, Response(
                403,
                {
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than provided by the token.",
                },
            )
        project = self._find(ref)
        return project, (None if project else Response(404, {"message": "404 Project Not Found"}))

    @staticmethod
    def _paged(req: Request, items: list[Any]) -> Response:
        page_items, page, per_page, last = page_of(items, req, default_per_page=20)
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(last),
            "X-Next-Page": str(page + 1) if page < last else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
            "Link": link_header(req, page, last, per_page),
        }
        return Response(200, page_items, headers)

    # ---- routes ----------------------------------------------------------------------------------------
    @route("GET", r"/user")
    def get_user(self, req: Request) -> Response:
        if req.token is None or not req.token.read_user:
            return Response(401, {"message": "401 Unauthorized"})
        return Response(200, {"id": req.token.user_id, "username": req.token.login, "name": req.token.login})

    @route("GET", _P)
    def get_project(self, req: Request, ref: str) -> Response:
        project, error = self._guard(req, ref)
        if error or project is None:
            return error or Response(404)
        return Response(
            200,
            {"id": project.id, "path_with_namespace": project.path, "web_url": f"{req.base}/{project.path}"},
        )

    @route("GET", _P + r"/merge_requests/(\d+)/notes")
    def list_notes(self, req: Request, ref: str, iid: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        if error or project is None:
            return error or Response(404)
        visible = [n for n in self.notes(project.path, int(iid)) if not self._still_hidden(project, n["id"])]
        if req.query.get("sort", "desc") == "desc":
            visible.reverse()
        return self._paged(req, [self._note_json(n) for n in visible])

    @staticmethod
    def _still_hidden(project: GitLabProject, note_id: int) -> bool:
        left = project.hidden.get(note_id, 0)
        if left > 0:
            project.hidden[note_id] = left - 1
        return left > 0

    @route("POST", _P + r"/merge_requests/(\d+)/notes")
    def create_note(self, req: Request, ref: str, iid: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        if error or project is None or req.token is None:
            return error or Response(404)
        body = req.json().get("body", "")
        if len(body) > GITLAB_NOTE_LIMIT:
            return Response(
                400, {"message": {"note": [f"is too long (maximum is {GITLAB_NOTE_LIMIT} characters)"]}}
            )
        note = self._store_note(project, int(iid), req.token.login, body)
        if req.fault and req.fault.kind == "lag":
            project.hidden[note["id"]] = req.fault.listings
        return Response(201, self._note_json(note))

    @route("PUT", _P + r"/merge_requests/(\d+)/notes/(\d+)")
    def update_note(self, req: Request, ref: str, iid: str, note_id: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        note = self._note_in(project, "mr", iid, note_id)
        if error or note is None or req.token is None:
            return error or Response(404, {"message": "404 Not found"})
        if note["username"] != req.token.login:
            return Response(403, {"message": "403 Forbidden"})
        body = req.json().get("body", "")
        if len(body) > GITLAB_NOTE_LIMIT:
            return Response(
                400, {"message": {"note": [f"is too long (maximum is {GITLAB_NOTE_LIMIT} characters)"]}}
            )
        note.update(body=body, updated_at=_now())
        return Response(200, self._note_json(note))

    @route("DELETE", _P + r"/merge_requests/(\d+)/notes/(\d+)")
    def delete_note(self, req: Request, ref: str, iid: str, note_id: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        note = self._note_in(project, "mr", iid, note_id)
        if error or project is None or note is None or req.token is None:
            return error or Response(404, {"message": "404 Not found"})
        if note["username"] != req.token.login:
            return Response(403, {"message": "403 Forbidden"})
        del project.notes[int(note_id)]
        return Response(204)

    @route("POST", _P + r"/statuses/([0-9a-f]+)")
    def create_status(self, req: Request, ref: str, sha: str) -> Response:
        project, error = self._guard(req, ref)
        if error or project is None:
            return error or Response(404)
        data = req.json()
        if data.get("state") not in GITLAB_STATES:
            return Response(400, {"message": "state does not have a valid value"})
        name = data.get("name") or data.get("context") or "default"
        latest = [s for s in project.statuses if s["sha"] == sha and s["name"] == name]
        if latest and latest[-1]["status"] == data["state"]:
            return Response(
                400, {"message": f"Cannot transition status via :{data['state']} from :{data['state']}"}
            )
        status = {
            "id": next(self.ids),
            "sha": sha,
            "status": data["state"],
            "name": name,
            "description": data.get("description"),
            "target_url": data.get("target_url"),
            "created_at": _now(),
        }
        project.statuses.append(status)
        return Response(201, status)

    @route("POST", _P + r"/uploads")
    def upload(self, req: Request, ref: str) -> Response:
        project, error = self._guard(req, ref)
        if error or project is None:
            return error or Response(404)
        filename, data = _multipart_file(req)
        secret = hashlib.md5(data + str(len(project.uploads)).encode()).hexdigest()
        url = f"/uploads/{secret}/{filename}"
        project.uploads.append({"url": url, "data": data, "filename": filename})
        return Response(
            201,
            {
                "id": len(project.uploads),
                "alt": filename.rsplit(".", 1)[0],
                "url": url,
                "full_path": f"/-/project/{project.id}{url}",
                "markdown": f"![{filename.rsplit('.', 1)[0]}]({url})",
            },
        )

    @route("GET", _P + r"/merge_requests/(\d+)")
    def get_mr(self, req: Request, ref: str, iid: str) -> Response:
        project, error = self._guard(req, ref)
        mr = next((m for m in project.mrs if m["iid"] == int(iid)), None) if project else None
        if error or project is None or mr is None:
            return error or Response(404, {"message": "404 Not found"})
        author = {"id": abs(hash(mr["author"])) % 10**6, "username": mr["author"]}
        return Response(200, {"id": mr["iid"] * 3, "iid": mr["iid"], "project_id": project.id,
                              "state": mr["state"], "sha": mr["sha"], "author": author})  # fmt: skip

    @route("GET", _P + r"/merge_requests/(\d+)/versions")
    def list_versions(self, req: Request, ref: str, iid: str) -> Response:
        project, error = self._guard(req, ref)
        mr = next((m for m in project.mrs if m["iid"] == int(iid)), None) if project else None
        if error or project is None or mr is None:
            return error or Response(404, {"message": "404 Not found"})
        return self._paged(req, [{**v, "merge_request_id": mr["iid"] * 3, "state": "collected"}
                                 for v in mr["versions"]])  # fmt: skip

    @route("GET", _P + r"/members/all")
    def list_members(self, req: Request, ref: str) -> Response:
        project, error = self._guard(req, ref)
        if error or project is None:
            return error or Response(404)
        query = req.query.get("query", "")
        found = [{"id": abs(hash(u)) % 10**6, "username": u, "access_level": level, "state": "active"}
                 for u, level in project.members.items() if query in u]  # fmt: skip
        return self._paged(req, found)

    @route("GET", _P + r"/repository/commits/([0-9a-f]+)/merge_requests")
    def mrs_of_commit(self, req: Request, ref: str, sha: str) -> Response:
        project, error = self._guard(req, ref)
        if error or project is None:
            return error or Response(404)
        found = [
            {
                "id": mr["iid"] * 3,
                "iid": mr["iid"],
                "project_id": project.id,
                "state": mr["state"],
                "sha": mr["sha"],
                "source_branch": f"mr-{mr['iid']}",
                "target_branch": "main",
                "web_url": f"{req.base}/{project.path}/-/merge_requests/{mr['iid']}",
            }
            for mr in project.mrs
            if mr["sha"] == sha
        ]
        return self._paged(req, found)


def _multipart_file(req: Request) -> tuple[str, bytes]:
    head = f"Content-Type: {req.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + req.body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return str(part.get_filename() or "file"), payload if isinstance(payload, bytes) else b""
    return "file", b""
