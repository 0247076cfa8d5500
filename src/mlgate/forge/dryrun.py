"""The dry-run forges: they write what would be posted (comment bodies, statuses, images, reactions) to a
folder and post nothing.

`DryRunForge` keeps its comments in memory like a real forge, so the sticky-comment upsert behaves exactly as
it would: `comment-<number>.md` (`comment-commit-<sha>.md` for a commit) always holds the body of the comment
the upsert kept. `written` lists every path it wrote, for the CLI to print. `DryRunChatForge` answers
PR-comment commands: it reads the PR, the commenter's permission and the comments from the real forge when
there is a token, and writes the rest.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from mlgate.errors import ForgeError
from mlgate.forge import (
    GITHUB_COMMENT_LIMIT,
    ChangeThread,
    ChatForge,
    Comment,
    CommentThread,
    PermissionUnknownError,
    PullInfo,
    Reaction,
    StatusState,
    Target,
    truncate_description,
)

DRY_RUN_BOT = "mlgate[dry-run]"


class DryRunForge:
    """A Forge that records instead of posting. `comment_limit` is that of the forge being imitated."""

    def __init__(
        self, out_dir: Path, *, comment_limit: int = GITHUB_COMMENT_LIMIT, bot: str = DRY_RUN_BOT
    ) -> None:
        self.out_dir = out_dir
        self.comment_limit = comment_limit
        self.written: list[Path] = []
        self._reported = 0
        self._bot = bot
        self._ids = itertools.count(1)
        self._comments: dict[int, tuple[int | str, Comment]] = {}  # id → (number or commit key, comment)

    def bot_identity(self) -> str | None:
        return self._bot

    def thread(self, target: Target) -> CommentThread:
        if target.kind == "commit":
            return _CommitThread(self, target.sha)
        return ChangeThread(self, target.number)

    def list_comments(self, number: int | str) -> list[Comment]:
        return [
            comment for n, comment in sorted(self._comments.values(), key=lambda e: e[1].id) if n == number
        ]

    def create_comment(self, number: int | str, body: str) -> Comment:
        self._check_length(body)
        now = _now()
        comment = Comment(id=next(self._ids), author=self._bot, body=body, created_at=now, updated_at=now)
        self._comments[comment.id] = (number, comment)
        self._write_text(self._comment_file(number, body), body)
        return comment

    def take_written(self) -> list[Path]:
        """The paths written since the last call (each path once), for the CLI to print."""
        new, self._reported = self.written[self._reported :], len(self.written)
        return new

    def update_comment(self, comment_id: int, body: str) -> Comment:
        self._check_length(body)
        if comment_id not in self._comments:
            raise ForgeError("dry run", f"comment {comment_id} does not exist")
        number, old = self._comments[comment_id]
        comment = Comment(
            id=comment_id, author=old.author, body=body, created_at=old.created_at, updated_at=_now()
        )
        self._comments[comment_id] = (number, comment)
        self._write_text(f"comment-{number}.md", body)
        return comment

    def delete_comment(self, comment_id: int) -> None:
        self._comments.pop(comment_id, None)

    def set_status(
        self, sha: str, state: StatusState, description: str, context: str, target_url: str | None = None
    ) -> None:
        record = {
            "sha": sha,
            "state": state,
            "context": context,
            "description": truncate_description(description),
            "target_url": target_url,
        }
        self._append_json("statuses.jsonl", record)

    def upload_image(self, path: Path) -> str:
        """Copy the image to `images/<sha256[:16]><suffix>` and return that path relative to the folder."""
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        except OSError as exc:
            raise ForgeError(str(path), f"cannot read the image: {exc.strerror or exc}") from None
        relative = f"images/{digest}{path.suffix.lower()}"
        target = self._path(relative)
        if not target.exists():
            shutil.copyfile(path, target)
        self._note(target)
        return relative

    def find_change_for_sha(self, sha: str) -> int | None:
        return None

    def comment_url(self, number: int, comment_id: int) -> str | None:
        """The file that holds the comment's body."""
        return str(self.out_dir / f"comment-{number}.md")

    def _check_length(self, body: str) -> None:
        if len(body) > self.comment_limit:
            raise ForgeError(
                "dry run", f"body is {len(body):,} characters, over the limit of {self.comment_limit:,}"
            )

    def _comment_file(self, number: int | str, body: str) -> str:
        return f"comment-{number}.md"

    def _append_json(self, name: str, record: Mapping[str, object]) -> None:
        path = self._path(name)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        self._note(path)

    def _write_text(self, name: str, text: str) -> None:
        path = self._path(name)
        path.write_text(text, encoding="utf-8")
        self._note(path)

    def _path(self, relative: str) -> Path:
        path = self.out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _note(self, path: Path) -> None:
        if path not in self.written:
            self.written.append(path)


class DryRunChatForge(DryRunForge):
    """The dry-run forge of a PR-comment command. Reads (the PR, a permission, the comments) go to `reader`,
    the real forge, when there is a token; every write lands in the folder: reactions in `reactions.jsonl`,
    replies in `reply-<number>-<n>.md`, the sticky comment in `comment-<number>.md`, statuses in
    `statuses.jsonl`. Without a reader the permission is unknown (the author association decides) and the
    PR cannot be read, so only `/mlgate help` and unknown commands get an answer.
    """

    def __init__(self, out_dir: Path, *, reader: ChatForge | None) -> None:
        limit = reader.comment_limit if reader is not None else GITHUB_COMMENT_LIMIT
        bot = (reader.bot_identity() if reader is not None else None) or DRY_RUN_BOT
        super().__init__(out_dir, comment_limit=limit, bot=bot)
        self.reader = reader
        self._ids = itertools.count(1 << 53)  # never the id of a real comment
        self._replies = itertools.count(1)
        self._read: set[int] = set()

    def add_reaction(self, comment_id: int, reaction: Reaction) -> None:
        self._append_json("reactions.jsonl", {"comment_id": comment_id, "reaction": reaction})

    def permission_of(self, user: str) -> str:
        if self.reader is None:
            raise PermissionUnknownError("dry run", f"no token to read the permission of @{user}")
        return self.reader.permission_of(user)

    def pull_info(self, number: int) -> PullInfo:
        if self.reader is None:
            hint = "set GITHUB_TOKEN: a dry run reads the PR from the API and posts nothing"
            raise ForgeError("dry run", f"no token to read PR #{number}", hint=hint)
        return self.reader.pull_info(number)

    def list_comments(self, number: int | str) -> list[Comment]:
        """The real comments (read once) with this run's dry-run edits over them."""
        if self.reader is not None and isinstance(number, int) and number not in self._read:
            self._read.add(number)
            for comment in self.reader.list_comments(number):
                self._comments.setdefault(comment.id, (number, comment))
        return super().list_comments(number)

    def _comment_file(self, number: int | str, body: str) -> str:
        from mlgate.forge.sticky import parse_marker

        if parse_marker(body.partition("\n")[0]) is not None:
            return super()._comment_file(number, body)
        return f"reply-{number}-{next(self._replies)}.md"


class _CommitThread:
    """A commit's comments, kept like a PR's under the key `commit-<sha[:12]>`."""

    def __init__(self, forge: DryRunForge, sha: str) -> None:
        self.forge, self.key = forge, f"commit-{sha[:12]}"
        self.label = f"commit {sha[:12]}"
        self.comment_limit = forge.comment_limit

    def bot_identity(self) -> str | None:
        return self.forge.bot_identity()

    def list_comments(self) -> list[Comment]:
        return self.forge.list_comments(self.key)

    def create_comment(self, body: str) -> Comment:
        return self.forge.create_comment(self.key, body)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        return self.forge.update_comment(comment_id, body)

    def delete_comment(self, comment_id: int) -> None:
        self.forge.delete_comment(comment_id)

    def comment_url(self, comment_id: int) -> str | None:
        return str(self.forge.out_dir / f"comment-{self.key}.md")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
