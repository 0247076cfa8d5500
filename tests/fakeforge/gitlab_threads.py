"""The fake GitLab's issue notes, commit discussions (`/repository/commits/:sha/discussions`), and the
repository files API (`/repository/files/:path/raw?ref=`), mixed into FakeGitLab.

Issue notes and commit discussion notes live in the project's `notes` next to MR notes, told apart by
`noteable` ("mr", "issue", "commit:<sha>"); a commit note also carries its discussion's id.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from tests.fakeforge.server import Request, Response, route

if TYPE_CHECKING:
    from tests.fakeforge.gitlab_api import GitLabProject

_P = r"/projects/([^/]+)"
_NOT_FOUND = {"message": "404 Not found"}


class ThreadRoutes:
    """Routes mixed into FakeGitLab, which provides the note store, `_guard` and `_paged`."""

    def _guard(
        self, req: Request, ref: str, *, notes: bool = False
    ) -> tuple[GitLabProject | None, Response | None]:
        raise NotImplementedError

    def _by_path(self, path: str) -> GitLabProject:
        raise NotImplementedError

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
        raise NotImplementedError  # fmt: skip

    def _notes_of(self, project: GitLabProject, noteable: str, iid: int) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _note_in(
        self, project: GitLabProject | None, noteable: str, iid: str, note_id: str
    ) -> dict[str, Any] | None:
        raise NotImplementedError

    @staticmethod
    def _note_json(note: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def _paged(req: Request, items: list[Any]) -> Response:
        raise NotImplementedError

    # ---- seeding and inspection (tests) --------------------------------------------------------------
    def issue_notes(self, path: str, iid: int) -> list[dict[str, Any]]:
        return self._notes_of(self._by_path(path), "issue", iid)

    def commit_notes(self, path: str, sha: str) -> list[dict[str, Any]]:
        return self._notes_of(self._by_path(path), f"commit:{sha}", 0)

    def add_commit_note(self, path: str, sha: str, username: str, body: str) -> int:
        return int(self._store_commit_note(self._by_path(path), sha, username, body)["id"])

    def add_file(self, path: str, file_path: str, data: bytes, ref: str = "main") -> None:
        self._by_path(path).files[(ref, file_path)] = data

    def _store_commit_note(
        self, project: GitLabProject, sha: str, username: str, body: str
    ) -> dict[str, Any]:
        note = self._store_note(project, 0, username, body, noteable=f"commit:{sha}")
        note["discussion"] = hashlib.sha1(str(note["id"]).encode()).hexdigest()
        return note

    def _discussion_json(self, note: dict[str, Any]) -> dict[str, Any]:
        return {"id": note["discussion"], "individual_note": True,
                "notes": [{**self._note_json(note), "noteable_type": "Commit"}]}  # fmt: skip

    # ---- issue notes -----------------------------------------------------------------------------------
    @route("GET", _P + r"/issues/(\d+)/notes")
    def list_issue_notes(self, req: Request, ref: str, iid: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        if error or project is None:
            return error or Response(404)
        found = self._notes_of(project, "issue", int(iid))
        if req.query.get("sort", "desc") == "desc":
            found.reverse()
        return self._paged(req, [{**self._note_json(n), "noteable_type": "Issue"} for n in found])

    @route("POST", _P + r"/issues/(\d+)/notes")
    def create_issue_note(self, req: Request, ref: str, iid: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        if error or project is None or req.token is None:
            return error or Response(404)
        body = req.json().get("body", "")
        note = self._store_note(project, int(iid), req.token.login, body, noteable="issue")
        return Response(201, self._note_json(note))

    @route("PUT", _P + r"/issues/(\d+)/notes/(\d+)")
    def update_issue_note(self, req: Request, ref: str, iid: str, note_id: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        return error or self._edit(req, self._note_in(project, "issue", iid, note_id), project)

    @route("DELETE", _P + r"/issues/(\d+)/notes/(\d+)")
    def delete_issue_note(self, req: Request, ref: str, iid: str, note_id: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        return error or self._edit(req, self._note_in(project, "issue", iid, note_id), project, delete=True)

    def _edit(
        self,
        req: Request,
        note: dict[str, Any] | None,
        project: GitLabProject | None,
        *,
        delete: bool = False,
    ) -> Response:
        if note is None or project is None or req.token is None:
            return Response(404, _NOT_FOUND)
        if note["username"] != req.token.login:
            return Response(403, {"message": "403 Forbidden"})
        if delete:
            del project.notes[note["id"]]
            return Response(204)
        note.update(body=req.json().get("body", ""), updated_at=note["created_at"] + "+edited")
        return Response(200, self._note_json(note))

    # ---- commit discussions ----------------------------------------------------------------------------
    @route("GET", _P + r"/repository/commits/([0-9a-f]+)/discussions")
    def list_commit_discussions(self, req: Request, ref: str, sha: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        if error or project is None:
            return error or Response(404)
        found = self._notes_of(project, f"commit:{sha}", 0)
        return self._paged(req, [self._discussion_json(n) for n in found])

    @route("POST", _P + r"/repository/commits/([0-9a-f]+)/discussions")
    def create_commit_discussion(self, req: Request, ref: str, sha: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        if error or project is None or req.token is None:
            return error or Response(404)
        note = self._store_commit_note(project, sha, req.token.login, req.json().get("body", ""))
        return Response(201, self._discussion_json(note))

    @route("PUT", _P + r"/repository/commits/([0-9a-f]+)/discussions/([0-9a-f]+)/notes/(\d+)")
    def update_commit_note(self, req: Request, ref: str, sha: str, discussion: str, note_id: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        return error or self._edit(req, self._commit_note(project, sha, discussion, note_id), project)

    @route("DELETE", _P + r"/repository/commits/([0-9a-f]+)/discussions/([0-9a-f]+)/notes/(\d+)")
    def delete_commit_note(self, req: Request, ref: str, sha: str, discussion: str, note_id: str) -> Response:
        project, error = self._guard(req, ref, notes=True)
        note = self._commit_note(project, sha, discussion, note_id)
        return error or self._edit(req, note, project, delete=True)

    def _commit_note(
        self, project: GitLabProject | None, sha: str, discussion: str, note_id: str
    ) -> dict[str, Any] | None:
        note = self._note_in(project, f"commit:{sha}", "0", note_id)
        return note if note is not None and note["discussion"] == discussion else None

    # ---- repository files ------------------------------------------------------------------------------
    @route("GET", _P + r"/repository/files/(.+)/raw")
    def raw_file(self, req: Request, ref: str, file_path: str) -> Response:
        project, error = self._guard(req, ref)
        if error or project is None:
            return error or Response(404)
        data = project.files.get((req.query.get("ref", "main"), file_path))
        return (
            Response(200, raw=data) if data is not None else Response(404, {"message": "404 File Not Found"})
        )
