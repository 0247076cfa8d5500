"""The code host behind one Protocol `Forge`: comments, statuses, images; `connect` picks GitHub or GitLab.

    Forge (Protocol)
    ├── GitHubForge     forge/github.py   (PyGithub)
    ├── GitLabForge     forge/gitlab.py   (python-gitlab)
    └── DryRunForge     forge/dryrun.py   (writes what would be posted to a folder)

    CommentThread (Protocol)   the comments of one Target: a PR/MR, an issue, or a commit
    └── ChangeThread           a PR/MR's (or a GitHub issue's) comments through the Forge methods

`CheckForge` (GitHub only) adds check runs: the verdict with the report as its summary, where the token
may create one (a GitHub App installation token, such as Actions' GITHUB_TOKEN with `checks: write`).

The three forges also implement `ThreadForge.thread(target)` (issue and commit comments) and
`FileForge.read_file(path, ref)` (a file of the repository through the API, for `publish --from` without a
clone).

Errors (all `mlgate.errors.ForgeError`, exit 3):

    ForgeError
    ├── UncertainWriteError   a write whose outcome is unknown (5xx, timeout, reset): it may have been stored
    └── ChecksUnavailableError  the token may not create check runs (HTTP 403): set a commit status instead

The libraries are imported inside `connect`, so `mlgate diff` never loads PyGithub or python-gitlab.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from mlgate.errors import ForgeError
from mlgate.record import Record

StatusState = Literal["success", "failure", "pending", "error"]
ForgeKind = Literal["github", "gitlab"]

CheckConclusion = Literal["success", "failure", "neutral"]

STATUS_DESCRIPTION_LIMIT = 140
# NOTE: the Checks API takes at most 65,535 characters in `output.summary`; GitHub counts them as bytes of
# UTF-8 in practice (github/docs#35252, rest-api-description#5399), so the summary is budgeted in bytes.
CHECK_SUMMARY_LIMIT = 65_535
CHECK_TITLE_LIMIT = 255
GITHUB_COMMENT_LIMIT = 65_536
GITLAB_COMMENT_LIMIT = 1_000_000


class UncertainWriteError(ForgeError):
    """A write that failed in a way that does not say whether the server stored it (5xx, reset, timeout)."""


def request_error(
    where: str,
    what: str,
    *,
    status: int | None,
    write: bool,
    hint: str | None,
    rate_limit_wait: float | None,
    max_wait: float,
) -> ForgeError:
    """The error for a failed request: a write without a definite answer (no status, 5xx) is uncertain."""
    if rate_limit_wait is not None:
        what = f"rate limited, retry after {rate_limit_wait:.0f} s"
        hint = f"mlgate waits at most {max_wait:g} s for a rate limit"
    uncertain = write and (status is None or status >= 500)
    return (UncertainWriteError if uncertain else ForgeError)(where, what, hint=hint)


class Comment(Record):
    """A comment on a PR/MR as the forge returned it; times are ISO-8601 UTC strings."""

    id: int
    author: str
    body: str
    created_at: str
    updated_at: str


class Forge(Protocol):
    """What publishing needs from a code host, in forge-neutral terms. `number` is the PR/MR number (iid)."""

    @property
    def comment_limit(self) -> int:
        """The most characters one comment body may hold."""
        ...

    def bot_identity(self) -> str | None:
        """The login whose comments are ours (the author filter of the sticky comment); None if unknown."""
        ...

    def list_comments(self, number: int) -> list[Comment]:
        """Every comment of the PR/MR, all pages, oldest first."""
        ...

    def create_comment(self, number: int, body: str) -> Comment: ...

    def update_comment(self, comment_id: int, body: str) -> Comment: ...

    def delete_comment(self, comment_id: int) -> None:
        """Delete one comment; a comment that is already gone is not an error."""
        ...

    def set_status(
        self, sha: str, state: StatusState, description: str, context: str, target_url: str | None = None
    ) -> None:
        """Set the commit status `context` of `sha`; `description` is cut to 140 characters."""
        ...

    def upload_image(self, path: Path) -> str:
        """Store the image where the forge can show it and return the URL to link in Markdown."""
        ...

    def find_change_for_sha(self, sha: str) -> int | None:
        """The number of the open PR/MR whose head commit is `sha`, or None."""
        ...

    def comment_url(self, number: int, comment_id: int) -> str | None:
        """Where a person sees comment `comment_id` of PR/MR `number` (no request), or None if unknown."""
        ...


TargetKind = Literal["change", "issue", "commit"]


class Target(Record):
    """Where a comment goes: PR/MR `number` (kind change), issue `number`, or commit `sha`."""

    kind: TargetKind
    number: int = 0
    sha: str = ""

    @property
    def label(self) -> str:
        """How messages name it: `#5`, `issue #12`, `commit 0123456789ab`."""
        if self.kind == "commit":
            return f"commit {self.sha[:12]}"
        return f"issue #{self.number}" if self.kind == "issue" else f"#{self.number}"


class CommentThread(Protocol):
    """The comments of one Target, in the terms the sticky comment needs."""

    @property
    def label(self) -> str: ...

    @property
    def comment_limit(self) -> int: ...

    def bot_identity(self) -> str | None: ...

    def list_comments(self) -> list[Comment]:
        """Every comment of the target, all pages."""
        ...

    def create_comment(self, body: str) -> Comment: ...

    def update_comment(self, comment_id: int, body: str) -> Comment: ...

    def delete_comment(self, comment_id: int) -> None: ...

    def comment_url(self, comment_id: int) -> str | None: ...


class ChangeThread(Record):
    """The comments of PR/MR `number` through the Forge's own methods (GitHub issues share them)."""

    forge: Forge
    number: int

    @property
    def label(self) -> str:
        return f"#{self.number}"

    @property
    def comment_limit(self) -> int:
        return self.forge.comment_limit

    def bot_identity(self) -> str | None:
        return self.forge.bot_identity()

    def list_comments(self) -> list[Comment]:
        return self.forge.list_comments(self.number)

    def create_comment(self, body: str) -> Comment:
        return self.forge.create_comment(self.number, body)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        return self.forge.update_comment(comment_id, body)

    def delete_comment(self, comment_id: int) -> None:
        self.forge.delete_comment(comment_id)

    def comment_url(self, comment_id: int) -> str | None:
        return self.forge.comment_url(self.number, comment_id)


@runtime_checkable
class ThreadForge(Forge, Protocol):
    """A forge that can comment on issues and commits too (`mlgate comment --target`)."""

    def thread(self, target: Target) -> CommentThread: ...


@runtime_checkable
class FileForge(Forge, Protocol):
    """A forge that reads a repository file at a ref through its API (no clone needed)."""

    def read_file(self, path: str, ref: str) -> bytes | None:
        """The file's bytes at `ref` (a branch, tag or SHA), or None when there is no such file there."""
        ...


class ChecksUnavailableError(ForgeError):
    """The token may not create check runs (a PAT or OAuth token, or an App token without `checks: write`)."""


class CheckReport(Record):
    """A completed check run: `name` is the required-check name, `summary` Markdown within the limit."""

    name: str
    conclusion: CheckConclusion
    title: str
    summary: str
    details_url: str | None = None


@runtime_checkable
class CheckForge(Forge, Protocol):
    """A forge with check runs (GitHub's Checks API)."""

    def may_create_checks(self) -> bool:
        """False when the token is known not to create check runs (its kind, or an earlier 403)."""
        ...

    def create_check_run(self, sha: str, check: CheckReport) -> None:
        """Create the completed check run `check` on `sha`; raises ChecksUnavailableError on HTTP 403."""
        ...


class PermissionUnknownError(ForgeError):
    """The token may not read a user's repository permission (HTTP 403): fall back to the association."""


class PullInfo(Record):
    """A PR as the API tells it (never the event payload's word): head commit, state, author, fork."""

    number: int
    head_sha: str
    state: str
    author: str
    fork: bool


Reaction = Literal["+1", "-1", "eyes", "rocket", "confused"]


@runtime_checkable
class ChatForge(Forge, Protocol):
    """What PR-comment commands need on top of publishing: reactions, permissions, the PR itself."""

    def add_reaction(self, comment_id: int, reaction: Reaction) -> None: ...

    def permission_of(self, user: str) -> str:
        """The user's role on the repository (admin|maintain|write|triage|read|none); raises
        PermissionUnknownError when the token may not read it."""
        ...

    def pull_info(self, number: int) -> PullInfo: ...


def read_image(path: Path) -> bytes:
    """An image to upload, or a ForgeError naming the file (both forges' uploads)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ForgeError(str(path), f"cannot read the image: {exc.strerror or exc}") from None


def truncate_description(text: str, limit: int = STATUS_DESCRIPTION_LIMIT) -> str:
    """`text` on one line and at most `limit` characters, an ellipsis marking a cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def connect(
    kind: ForgeKind,
    *,
    api_url: str,
    token: str,
    repo: str,
    timeout: float = 10.0,
    max_rate_limit_wait: float = 10.0,
    bot_login: str | None = None,
) -> Forge:
    """The forge for `kind`: `repo` is `owner/name` (GitHub) or the project path or id (GitLab).

    `api_url` is the REST root (`https://api.github.com`, `https://HOST/api/v3`) for GitHub and the server
    URL (`https://gitlab.com`, or `CI_API_V4_URL` without `/api/v4`) for GitLab. `bot_login` overrides the
    author filter when the token cannot tell who it is (a GitHub App installation token: `my-app[bot]`).
    """
    if kind == "github":
        from mlgate.forge.github import GitHubForge

        return GitHubForge(
            api_url=api_url,
            token=token,
            repo=repo,
            timeout=timeout,
            max_rate_limit_wait=max_rate_limit_wait,
            bot_login=bot_login,
        )
    if kind == "gitlab":
        from mlgate.forge.gitlab import GitLabForge

        return GitLabForge(
            url=api_url, token=token, project=repo, timeout=timeout, max_rate_limit_wait=max_rate_limit_wait
        )
    raise ForgeError("--forge", f"unknown forge {kind!r}", hint="use github or gitlab")
