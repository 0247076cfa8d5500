"""GitLab through python-gitlab: MR and issue notes, commit statuses, repository files, and images through
the project uploads API (commit comments: forge/gitlab_commits.py, through this forge).

The only module that imports python-gitlab (`gitlab`); it is imported when a GitLabForge is made. Every
failure leaves as a ForgeError whose text has passed through the token Masker.

Note bodies are defended against quick actions: GitLab runs `/close`, `/approve`, `/assign` … written at the
start of a line of a note, even one posted through the API. report.py already keeps untrusted text off line
starts; here, as a second line of defence, any line outside a fenced code block whose first non-blank
character (indent under 4) is `/` gets a Markdown backslash escape (`\\/close` renders as `/close` and is no
quick action). Fenced code is left alone: GitLab does not run quick actions inside it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mlgate.errors import ForgeError
from mlgate.forge import (
    GITLAB_COMMENT_LIMIT,
    ChangeThread,
    Comment,
    CommentThread,
    StatusState,
    Target,
    read_image,
    request_error,
    truncate_description,
)
from mlgate.forge.ratelimit import RateLimitPolicy, call_with_capped_wait, parse_retry_after, seconds_until
from mlgate.masking import Masker

T = TypeVar("T")
_Owner = tuple[str, int]  # ("mergerequests" | "issues", iid): where a note lives

_STATES = {"success": "success", "failure": "failed", "error": "failed", "pending": "pending"}
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SLASH_LINE = re.compile(r"^( {0,3})/")
_TOKEN_HINT = (
    "GitLab needs a project (or personal) access token with the `api` scope in GITLAB_TOKEN or "
    "MLGATE_TOKEN; CI_JOB_TOKEN cannot write merge request notes"
)
_HINTS = {
    401: _TOKEN_HINT,
    403: _TOKEN_HINT,
    404: "the project, merge request or commit was not found, or the token cannot see it",
}


class GitLabForge:
    """The Forge Protocol on GitLab.com or a self-managed GitLab, through python-gitlab."""

    comment_limit = GITLAB_COMMENT_LIMIT

    def __init__(
        self, *, url: str, token: str, project: str, timeout: float = 10.0, max_rate_limit_wait: float = 10.0
    ) -> None:
        import gitlab

        self._masker = Masker([token])
        self._policy = RateLimitPolicy(max_wait=max_rate_limit_wait)
        # NOTE: python-gitlab's `retry_transient_errors=True` retries POST too, so a 502 on a note that GitLab
        # stored would post it twice (DESIGN §8); it stays off. Its `obey_rate_limit` sleeps as long as
        # Retry-After says, so every call passes obey_rate_limit=False and waits are capped here instead.
        self._web_url = url.rstrip("/").removesuffix("/api/v4")
        self._gl = gitlab.Gitlab(
            self._web_url,
            private_token=token,
            timeout=timeout,
            retry_transient_errors=False,
            per_page=100,
        )
        self._gl.session.hooks["response"].append(self._remember_rate_limit)
        self._project = self._gl.projects.get(project, lazy=True)
        self._project_name = project
        self._retry_after: float | None = None
        self._bot: str | None = None
        self._note_owner: dict[int, _Owner] = {}
        self._uploaded: dict[str, str] = {}

    def bot_identity(self) -> str | None:
        if self._bot is None:
            user = self._call(
                "read the token's user", lambda: self._gl.http_get("/user", obey_rate_limit=False)
            )
            self._bot = str(user["username"]) if isinstance(user, dict) else None
        return self._bot

    def list_comments(self, number: int) -> list[Comment]:
        return self._list_notes(("mergerequests", number))

    def create_comment(self, number: int, body: str) -> Comment:
        return self._create_note(("mergerequests", number), body)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        notes = self._notes(self._owner_of(comment_id))
        data = {"body": neutralize_quick_actions(body)}
        updated = self._call(
            f"update note {comment_id}",
            lambda: notes.update(comment_id, data, obey_rate_limit=False),
            write=True,
        )
        return note_comment(updated)

    def delete_comment(self, comment_id: int) -> None:
        notes = self._notes(self._owner_of(comment_id))
        self._call(f"delete note {comment_id}", lambda: delete_quietly(notes, comment_id), write=True)
        self._note_owner.pop(comment_id, None)

    def thread(self, target: Target) -> CommentThread:
        """An MR's notes, an issue's notes (both editable), or a commit's discussions."""
        if target.kind == "commit":
            from mlgate.forge.gitlab_commits import CommitDiscussions

            return CommitDiscussions(self, target.sha)
        if target.kind == "issue":
            return _IssueThread(self, target.number)
        return ChangeThread(self, target.number)

    def read_file(self, path: str, ref: str) -> bytes | None:
        """The repository files API (`GET /projects/:id/repository/files/:path/raw?ref=`)."""
        import gitlab

        def read() -> bytes | None:
            try:
                raw = self._project.files.raw(file_path=path, ref=ref, obey_rate_limit=False)
            except gitlab.GitlabGetError as exc:
                if exc.response_code == 404:
                    return None
                raise
            return bytes(raw) if isinstance(raw, bytes) else None

        return self._call(f"read {path} at {ref}", read)

    def _list_notes(self, owner: _Owner) -> list[Comment]:
        notes = self._notes(owner)

        def every_page() -> list[Comment]:
            found = notes.list(get_all=True, sort="asc", order_by="created_at", obey_rate_limit=False)
            return [self._remember(owner, note_comment(n.attributes)) for n in found if not n.system]

        return sorted(self._call(f"list the notes of {_label(owner)}", every_page), key=lambda c: c.id)

    def _create_note(self, owner: _Owner, body: str) -> Comment:
        notes = self._notes(owner)
        data = {"body": neutralize_quick_actions(body)}
        note = self._call(
            f"comment on {_label(owner)}", lambda: notes.create(data, obey_rate_limit=False), write=True
        )
        return self._remember(owner, note_comment(note.attributes))

    def _notes(self, owner: _Owner) -> Any:
        collection, number = owner
        return getattr(self._project, collection).get(number, lazy=True).notes

    def set_status(
        self, sha: str, state: StatusState, description: str, context: str, target_url: str | None = None
    ) -> None:
        import gitlab

        data = {"state": _STATES[state], "name": context, "description": truncate_description(description)}
        if target_url:
            data["target_url"] = target_url
        commit = self._project.commits.get(sha, lazy=True)

        def create() -> None:
            try:
                commit.statuses.create(data, obey_rate_limit=False)
            except gitlab.GitlabCreateError as exc:
                # GitLab refuses to "transition" a status into the state it already has: that is success.
                if "Cannot transition status" not in _text(exc.error_message):
                    raise

        self._call(f"set status {context} on {sha[:12]}", create, write=True)

    def upload_image(self, path: Path) -> str:
        """Upload through the project uploads API; the returned `/uploads/…` URL is private to the project.

        GitLab uploads are not content-addressed, so the same image is uploaded once per forge (per run).
        """
        data = read_image(path)
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self._uploaded:
            name = f"{digest[:16]}{path.suffix.lower()}"
            result = self._call(
                f"upload {path.name}",
                lambda: self._upload_target().upload(name, filedata=data, obey_rate_limit=False),
                write=True,
            )
            self._uploaded[digest] = str(result["url"])
        return self._uploaded[digest]

    def _upload_target(self) -> Any:
        # NOTE: python-gitlab 8 encodes a lazy project's path twice in the uploads URL (`group%252Fname`),
        # so a project given by path is read once (GET /projects/:path) to upload through its numeric id.
        if (
            not str(self._project_name).isdigit()
            and self._project.attributes.get("path_with_namespace") is None
        ):
            self._project = self._gl.projects.get(self._project_name, obey_rate_limit=False)
        return self._project

    def find_change_for_sha(self, sha: str) -> int | None:
        commit = self._project.commits.get(sha, lazy=True)

        def first_open() -> int | None:
            found = commit.merge_requests(get_all=True, obey_rate_limit=False)
            opened = [int(mr["iid"]) for mr in found if mr.get("state") == "opened" and mr.get("sha") == sha]
            return min(opened) if opened else None

        return self._call(f"find the MR of {sha[:12]}", first_open)

    def comment_url(self, number: int, comment_id: int) -> str | None:
        return self.web_url(f"merge_requests/{number}#note_{comment_id}")

    def web_url(self, page: str) -> str | None:
        """`<server>/<project>/-/<page>`; None for a project given by id (its path is unknown)."""
        if str(self._project_name).isdigit():
            return None  # the web path of a project given by id is unknown without a request
        return f"{self._web_url}/{self._project_name}/-/{page}"

    def _remember(self, owner: _Owner, comment: Comment) -> Comment:
        self._note_owner[comment.id] = owner
        return comment

    def merge_request_head(self, number: int) -> tuple[str, str, str | None]:
        """(author username, head SHA, when that head was pushed) of MR `number`; the time is the newest
        diff version's `created_at` (the MR versions API), None when GitLab lists no version."""

        def read() -> tuple[str, str, str | None]:
            mr = self._project.mergerequests.get(number, obey_rate_limit=False)
            versions = mr.diffs.list(get_all=False, per_page=1, obey_rate_limit=False)
            pushed = str(versions[0].created_at) if versions else None
            return str(mr.author["username"]), str(mr.sha), pushed

        return self._call(f"read !{number} and its versions", read)

    def access_level_of(self, username: str) -> int:
        """The member's access level on the project, inherited ones included (30 Developer, 40 Maintainer)."""

        def read() -> int:
            found = self._project.members_all.list(query=username, get_all=True, obey_rate_limit=False)
            levels = [int(m.access_level) for m in found if m.username == username]
            return max(levels, default=0)

        return self._call(f"read the access level of @{username}", read)

    def _owner_of(self, comment_id: int) -> _Owner:
        # NOTE: GitLab's notes API needs the MR (or issue) iid next to the note id; the Protocol names notes
        # by id only, so the forge remembers which MR or issue each listed or created note belongs to.
        if comment_id not in self._note_owner:
            raise ForgeError(f"GitLab {self._project_name}", f"note {comment_id} was not listed by this run")
        return self._note_owner[comment_id]

    def _remember_rate_limit(self, response: Any, *args: Any, **kwargs: Any) -> None:
        if response.status_code == 429:
            headers = response.headers
            wait = parse_retry_after(headers.get("Retry-After"))
            self._retry_after = wait if wait is not None else seconds_until(headers.get("RateLimit-Reset"))

    def _rate_limit_wait(self, exc: Exception) -> float | None:
        if getattr(exc, "response_code", None) != 429:
            return None
        return self._retry_after if self._retry_after is not None else 1.0

    def _call(self, action: str, call: Callable[[], T], *, write: bool = False) -> T:
        import gitlab

        try:
            return call_with_capped_wait(call, self._rate_limit_wait, self._policy)
        except (gitlab.GitlabError, OSError) as exc:
            raise self._error(action, exc, write=write) from None

    def _error(self, action: str, exc: Exception, *, write: bool) -> ForgeError:
        status: int | None = getattr(exc, "response_code", None)
        return request_error(
            f"GitLab {self._project_name}", self._masker.mask(f"{action}: {_describe(exc)}"),
            status=status, write=write, hint=_HINTS.get(status or 0),
            rate_limit_wait=self._rate_limit_wait(exc), max_wait=self._policy.max_wait,
        )  # fmt: skip


class _IssueThread:
    """The notes of issue `number`: the MR note routes with `issues` for `merge_requests`."""

    def __init__(self, forge: GitLabForge, number: int) -> None:
        self.forge, self.owner = forge, ("issues", number)
        self.label = f"issue #{number}"
        self.comment_limit = forge.comment_limit

    def bot_identity(self) -> str | None:
        return self.forge.bot_identity()

    def list_comments(self) -> list[Comment]:
        return self.forge._list_notes(self.owner)

    def create_comment(self, body: str) -> Comment:
        return self.forge._create_note(self.owner, body)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        return self.forge.update_comment(comment_id, body)

    def delete_comment(self, comment_id: int) -> None:
        self.forge.delete_comment(comment_id)

    def comment_url(self, comment_id: int) -> str | None:
        return self.forge.web_url(f"issues/{self.owner[1]}#note_{comment_id}")


def delete_quietly(notes: Any, note_id: int) -> None:
    import gitlab

    try:
        notes.delete(note_id, obey_rate_limit=False)
    except gitlab.GitlabDeleteError as exc:
        if exc.response_code != 404:  # already gone: a concurrent run, or a retried DELETE
            raise


def _label(owner: _Owner) -> str:
    return f"issue #{owner[1]}" if owner[0] == "issues" else f"!{owner[1]}"


def neutralize_quick_actions(body: str) -> str:
    """`body` with a backslash before any `/` that starts a line outside fenced code (see the module doc)."""
    lines, fence = [], ""
    for line in body.split("\n"):
        marker = _FENCE.match(line)
        if (
            fence
            and marker
            and line.strip() == marker[1]
            and marker[1][0] == fence[0]
            and len(marker[1]) >= len(fence)
        ):
            fence = ""
        elif not fence and marker:
            fence = marker[1]
        elif not fence:
            line = _SLASH_LINE.sub(r"\1\\/", line)
        lines.append(line)
    return "\n".join(lines)


def note_comment(attributes: dict[str, Any]) -> Comment:
    author = attributes.get("author") or {}
    return Comment(
        id=int(attributes["id"]),
        author=str(author.get("username", "")),
        body=str(attributes.get("body") or ""),
        created_at=str(attributes.get("created_at", "")),
        updated_at=str(attributes.get("updated_at") or attributes.get("created_at", "")),
    )


def _text(message: Any) -> str:
    if isinstance(message, bytes):
        return message.decode("utf-8", "replace")
    return str(message)


def _describe(exc: Exception) -> str:
    status = getattr(exc, "response_code", None)
    if status is None:
        text = str(exc)
        return f"{type(exc).__name__}: {text.splitlines()[0][:300] if text else 'no response'}"
    message = _text(getattr(exc, "error_message", ""))
    return f"HTTP {status}: {' '.join(message.split())[:300]}"
