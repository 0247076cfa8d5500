"""GitHub through PyGithub: issue and commit comments, commit statuses and check runs, repository files,
permissions and PRs; images go to the orphan `mlgate-assets` branch through github_assets.py.

With github_assets.py, the only module that imports PyGithub (`github`); it is imported when a GitHubForge
is made, never at `mlgate diff` time. Every failure leaves as a ForgeError whose text has passed through the
token Masker.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from mlgate.errors import ForgeError
from mlgate.forge import (
    GITHUB_COMMENT_LIMIT,
    ChangeThread,
    CheckReport,
    ChecksUnavailableError,
    Comment,
    CommentThread,
    PermissionUnknownError,
    PullInfo,
    Reaction,
    StatusState,
    Target,
    read_image,
    request_error,
    truncate_description,
)
from mlgate.forge.github_assets import GitHubAssets, asset_name, asset_url
from mlgate.forge.github_checks import CHECKS_HINT, check_run_fields, token_may_create_checks
from mlgate.forge.ratelimit import RateLimitPolicy, call_with_capped_wait, parse_retry_after, seconds_until
from mlgate.masking import Masker

if TYPE_CHECKING:
    from github.CommitComment import CommitComment
    from github.IssueComment import IssueComment
    from urllib3.util.retry import Retry

T = TypeVar("T")

ACTIONS_BOT = "github-actions[bot]"
_ANY_ISSUE = 1
_HINTS = {
    401: "the token was rejected; check GITHUB_TOKEN / MLGATE_TOKEN",
    403: "the token lacks a permission: give the job "
    "`permissions: {pull-requests: write, checks: write, statuses: write, contents: write}` "
    "(a fork PR's token is read-only: use the two-stage workflow_run publisher)",
    404: "the repository, PR or commit was not found, or the token cannot see it",
}


class GitHubForge:
    """The Forge Protocol on GitHub.com or GitHub Enterprise Server, through PyGithub."""

    comment_limit = GITHUB_COMMENT_LIMIT

    def __init__(
        self,
        *,
        api_url: str,
        token: str,
        repo: str,
        timeout: float = 10.0,
        max_rate_limit_wait: float = 10.0,
        bot_login: str | None = None,
        write_interval: float = 0.0,
    ) -> None:
        from github import Auth, Github

        self._masker = Masker([token])
        self._policy = RateLimitPolicy(max_wait=max_rate_limit_wait)
        # NOTE: PyGithub's default `GithubRetry` also retries POST; a 502 on a comment create that GitHub in
        # fact stored then posts the comment twice (DESIGN §8). `_retry` never retries POST, and
        # PyGithub's default throttle (1 s between writes) is off: a publish makes at most 4 writes.
        self._gh = Github(
            base_url=api_url.rstrip("/"),
            auth=Auth.Token(token),
            timeout=math.ceil(timeout),
            retry=_retry(max_rate_limit_wait),
            per_page=100,
            seconds_between_requests=None,
            seconds_between_writes=write_interval or None,
            lazy=True,
        )
        self._repo = self._gh.get_repo(repo)
        self._repo_name = repo
        self._server_url = server_url_of(api_url)
        self._bot = bot_login
        self._assets = GitHubAssets(self._repo)
        self._checks = token_may_create_checks(token)

    def bot_identity(self) -> str | None:
        if self._bot is None:
            self._bot = self._call("read the token's user", self._login_or_actions_bot)
        return self._bot

    def list_comments(self, number: int) -> list[Comment]:
        issue = self._repo.get_issue(number)
        return self._call(
            f"list the comments of #{number}", lambda: [_comment(c) for c in issue.get_comments()]
        )

    def create_comment(self, number: int, body: str) -> Comment:
        issue = self._repo.get_issue(number)
        return self._call(f"comment on #{number}", lambda: _comment(issue.create_comment(body)), write=True)

    def update_comment(self, comment_id: int, body: str) -> Comment:
        handle = self._comment_handle(comment_id)

        def edit() -> Comment:
            handle.edit(body)
            return _comment(handle)

        return self._call(f"update comment {comment_id}", edit, write=True)

    def delete_comment(self, comment_id: int) -> None:
        handle = self._comment_handle(comment_id)
        self._call(f"delete comment {comment_id}", lambda: _ignore_missing(handle.delete), write=True)

    def set_status(
        self, sha: str, state: StatusState, description: str, context: str, target_url: str | None = None
    ) -> None:
        from github.GithubObject import NotSet

        commit = self._repo.get_commit(sha)
        text = truncate_description(description)
        url: Any = target_url if target_url else NotSet
        self._call(
            f"set status {context} on {sha[:12]}",
            lambda: commit.create_status(state, target_url=url, description=text, context=context),
            write=True,
        )

    def may_create_checks(self) -> bool:
        return self._checks is not False

    def create_check_run(self, sha: str, check: CheckReport) -> None:
        fields = check_run_fields(check)
        where = f"create check run {check.name} on {sha[:12]}"
        self._call(where, lambda: self._create_check(check.name, sha, fields), write=True)
        self._checks = True

    def _create_check(self, name: str, sha: str, fields: dict[str, Any]) -> None:
        """One create; a 403 that is not a rate limit is the token's kind: remembered, and said as such."""
        from github import GithubException

        try:
            self._repo.create_check_run(name, sha, **fields)
        except GithubException as exc:
            if exc.status != 403 or _rate_limit_wait(exc) is not None:
                raise
            self._checks = False
            what = self._masker.mask(f"create check run {name}: {_describe(exc)}")
            raise ChecksUnavailableError(f"GitHub {self._repo_name}", what, hint=CHECKS_HINT) from None

    def upload_image(self, path: Path) -> str:
        """Commit the image to the `mlgate-assets` branch (once per content) and return its blob link."""
        data = read_image(path)
        name = asset_name(data, path.suffix)
        self._call(f"upload {path.name}", lambda: self._assets.store(name, data), write=True)
        return asset_url(self._server_url, self._repo_name, name)

    def find_change_for_sha(self, sha: str) -> int | None:
        commit = self._repo.get_commit(sha)

        def first_open() -> int | None:
            for pull in commit.get_pulls():
                if pull.state == "open" and pull.head.sha == sha:
                    return int(pull.number)
            return None

        return self._call(f"find the PR of {sha[:12]}", first_open)

    def comment_url(self, number: int, comment_id: int) -> str | None:
        return f"{self._server_url}/{self._repo_name}/pull/{number}#issuecomment-{comment_id}"

    def thread(self, target: Target) -> CommentThread:
        """A PR's or an issue's comments (one API on GitHub), or a commit's."""
        if target.kind == "commit":
            return _CommitThread(self, target.sha)
        return ChangeThread(self, target.number)

    def read_file(self, path: str, ref: str) -> bytes | None:
        from github import UnknownObjectException

        def read() -> bytes | None:
            try:
                found = self._repo.get_contents(path, ref=ref)
            except UnknownObjectException:
                return None
            return None if isinstance(found, list) else bytes(found.decoded_content)

        return self._call(f"read {path} at {ref}", read)

    def add_reaction(self, comment_id: int, reaction: Reaction) -> None:
        handle = self._comment_handle(comment_id)
        self._call(
            f"react {reaction} to comment {comment_id}", lambda: handle.create_reaction(reaction), write=True
        )

    def permission_of(self, user: str) -> str:
        from github import GithubException

        try:
            return str(self._repo.get_collaborator_role_name(user))
        except GithubException as exc:
            if exc.status == 403 and _rate_limit_wait(exc) is None:
                raise PermissionUnknownError(
                    f"GitHub {self._repo_name}", f"cannot read the permission of @{user}: HTTP 403"
                ) from None
            if exc.status == 404:
                return "none"
            raise self._error(f"read the permission of @{user}", exc, write=False) from None

    def pull_info(self, number: int) -> PullInfo:
        def read() -> PullInfo:
            pull = self._repo.get_pull(number)
            head_repo = pull.head.repo.full_name if pull.head.repo is not None else None
            return PullInfo(
                number=number,
                head_sha=str(pull.head.sha),
                state="merged" if pull.merged else str(pull.state),
                author=str(pull.user.login),
                fork=head_repo != self._repo_name,
            )

        return self._call(f"read PR #{number}", read)

    def _login_or_actions_bot(self) -> str:
        from github import GithubException

        try:
            return str(self._gh.get_user().login)
        except GithubException as exc:
            if exc.status != 403 or _rate_limit_wait(exc) is not None:
                raise
            # NOTE: the Actions GITHUB_TOKEN may not read /user ("Resource not accessible by integration");
            # what it posts is authored by github-actions[bot]. A GitHub App token passes `bot_login`.
            return ACTIONS_BOT

    def _comment_handle(self, comment_id: int) -> IssueComment:
        # NOTE: comment URLs are repository-level (/repos/O/R/issues/comments/ID); PyGithub builds them only
        # from an Issue, whose number does not enter the URL. Lazy: no request until edit()/delete().
        return self._repo.get_issue(_ANY_ISSUE).get_comment(comment_id)

    def _call(self, action: str, call: Callable[[], T], *, write: bool = False) -> T:
        from github import GithubException

        try:
            return call_with_capped_wait(call, _rate_limit_wait, self._policy)
        except (GithubException, OSError) as exc:
            raise self._error(action, exc, write=write) from None

    def _error(self, action: str, exc: Exception, *, write: bool) -> ForgeError:
        status: int | None = getattr(exc, "status", None)
        return request_error(
            f"GitHub {self._repo_name}", self._masker.mask(f"{action}: {_describe(exc)}"),
            status=status, write=write, hint=_HINTS.get(status or 0),
            rate_limit_wait=_rate_limit_wait(exc), max_wait=self._policy.max_wait,
        )  # fmt: skip


class _CommitThread:
    """The comments of one commit (`/repos/O/R/commits/SHA/comments`); GitHub lets their author edit them."""

    def __init__(self, forge: GitHubForge, sha: str) -> None:
        self.forge, self.sha = forge, sha
        self.label = f"commit {sha[:12]}"
        self.comment_limit = forge.comment_limit

    def bot_identity(self) -> str | None:
        return self.forge.bot_identity()

    def list_comments(self) -> list[Comment]:
        commit = self.forge._repo.get_commit(self.sha)
        return self.forge._call(
            f"list the comments of {self.label}", lambda: [_comment(c) for c in commit.get_comments()]
        )

    def create_comment(self, body: str) -> Comment:
        commit = self.forge._repo.get_commit(self.sha)
        return self.forge._call(
            f"comment on {self.label}", lambda: _comment(commit.create_comment(body)), write=True
        )

    def update_comment(self, comment_id: int, body: str) -> Comment:
        handle = self.forge._repo.get_comment(comment_id)  # lazy: no request until edit()

        def edit() -> Comment:
            handle.edit(body)
            return _comment(handle)

        return self.forge._call(f"update commit comment {comment_id}", edit, write=True)

    def delete_comment(self, comment_id: int) -> None:
        handle = self.forge._repo.get_comment(comment_id)
        self.forge._call(
            f"delete commit comment {comment_id}", lambda: _ignore_missing(handle.delete), write=True
        )

    def comment_url(self, comment_id: int) -> str | None:
        where = f"{self.forge._server_url}/{self.forge._repo_name}/commit/{self.sha}"
        return f"{where}#commitcomment-{comment_id}"


def server_url_of(api_url: str) -> str:
    """The web URL that goes with a REST root: api.github.com → github.com, HOST/api/v3 → HOST."""
    parts = urlsplit(api_url.rstrip("/"))
    host, path = parts.netloc, parts.path
    if host.startswith("api."):
        host = host.removeprefix("api.")
    path = path.removesuffix("/api/v3")
    return f"{parts.scheme}://{host}{path}"


def _retry(max_wait: float) -> Retry:
    from urllib3.util.retry import Retry

    # NOTE: POST is left out on purpose (no blind retry of a create); `Retry-After` is not honoured here
    # because urllib3 would sleep as long as asked: rate limits go through ratelimit.call_with_capped_wait.
    return Retry(
        total=3,
        allowed_methods=frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"}),
        status_forcelist=frozenset({500, 502, 503, 504}),
        backoff_factor=0.2,
        backoff_max=max_wait,
        respect_retry_after_header=False,
        raise_on_status=False,
    )


def _rate_limit_wait(exc: Exception) -> float | None:
    """Seconds GitHub asks us to wait, when `exc` is a rate-limit answer (429, or 403 with the headers)."""
    status = getattr(exc, "status", None)
    headers = {k.lower(): v for k, v in (getattr(exc, "headers", None) or {}).items()}
    retry_after = parse_retry_after(headers.get("retry-after"))
    exhausted = headers.get("x-ratelimit-remaining") == "0"
    if status == 429 or (status == 403 and (retry_after is not None or exhausted)):
        if retry_after is not None:
            return retry_after
        reset = seconds_until(headers.get("x-ratelimit-reset"))
        return 60.0 if reset is None else reset
    return None


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    if status is None:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else 'no response'}"
    data = getattr(exc, "data", None)
    message = data.get("message", "") if isinstance(data, dict) else str(data or "")
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("message"):
        message = f"{message} ({errors[0]['message']})"
    return f"HTTP {status}: {' '.join(str(message).split())[:300]}"


def _comment(comment: IssueComment | CommitComment) -> Comment:
    return Comment(
        id=int(comment.id),
        author=str(comment.user.login),
        body=comment.body or "",
        created_at=comment.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        updated_at=comment.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _ignore_missing(delete: Callable[[], None]) -> None:
    from github import UnknownObjectException

    try:
        delete()
    except UnknownObjectException:  # already deleted (a concurrent run, or a retried DELETE)
        return
