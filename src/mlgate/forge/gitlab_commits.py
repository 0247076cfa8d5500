"""GitLab commit comments as discussions (the Discussions API), for `mlgate comment --target commit`.

Lives beside forge/gitlab.py and goes through its GitLabForge (requests, errors, masking): it imports no
python-gitlab itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlgate.errors import ForgeError
from mlgate.forge import Comment
from mlgate.forge.gitlab import delete_quietly, neutralize_quick_actions, note_comment

if TYPE_CHECKING:
    from mlgate.forge.gitlab import GitLabForge


class CommitDiscussions:
    """The comments of commit `sha`, as discussions: each comment is the first note of its own discussion.

    NOTE: the commit comments API (`POST /projects/:id/repository/commits/:sha/comments`) has no edit and no
    delete; the Discussions API does ("Modify an existing commit thread note": `PUT /projects/:id/repository/
    commits/:sha/discussions/:discussion_id/notes/:note_id`, docs.gitlab.com/api/discussions), so `update`
    edits in place on GitLab as on GitHub, and a commit comment made in GitLab's UI is listed too.
    """

    def __init__(self, forge: GitLabForge, sha: str) -> None:
        self.forge, self.sha = forge, sha
        self.label = f"commit {sha[:12]}"
        self.comment_limit = forge.comment_limit
        self._discussion_of: dict[int, str] = {}

    def bot_identity(self) -> str | None:
        return self.forge.bot_identity()

    def list_comments(self) -> list[Comment]:
        discussions = self._commit().discussions

        def every_page() -> list[Comment]:
            found = discussions.list(get_all=True, obey_rate_limit=False)
            return [self._first_note(d.id, d.attributes) for d in found if _first_user_note(d.attributes)]

        return sorted(self.forge._call(f"list the comments of {self.label}", every_page), key=lambda c: c.id)

    def create_comment(self, body: str) -> Comment:
        discussions, data = self._commit().discussions, {"body": neutralize_quick_actions(body)}
        created = self.forge._call(
            f"comment on {self.label}", lambda: discussions.create(data, obey_rate_limit=False), write=True
        )
        return self._first_note(created.id, created.attributes)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        notes, data = self._notes(comment_id), {"body": neutralize_quick_actions(body)}
        updated = self.forge._call(
            f"update commit note {comment_id}",
            lambda: notes.update(comment_id, data, obey_rate_limit=False),
            write=True,
        )
        return note_comment(updated)

    def delete_comment(self, comment_id: int) -> None:
        notes = self._notes(comment_id)
        self.forge._call(
            f"delete commit note {comment_id}", lambda: delete_quietly(notes, comment_id), write=True
        )

    def comment_url(self, comment_id: int) -> str | None:
        return self.forge.web_url(f"commit/{self.sha}#note_{comment_id}")

    def _commit(self) -> Any:
        return self.forge._project.commits.get(self.sha, lazy=True)

    def _first_note(self, discussion_id: str, attributes: dict[str, Any]) -> Comment:
        comment = note_comment(attributes["notes"][0])
        self._discussion_of[comment.id] = str(discussion_id)
        return comment

    def _notes(self, comment_id: int) -> Any:
        if comment_id not in self._discussion_of:
            raise ForgeError(self.label, f"note {comment_id} was not listed by this run")
        return self._commit().discussions.get(self._discussion_of[comment_id], lazy=True).notes


def _first_user_note(discussion: dict[str, Any]) -> bool:
    notes = discussion.get("notes") or []
    return bool(notes) and not notes[0].get("system")
