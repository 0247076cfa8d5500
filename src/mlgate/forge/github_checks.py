"""Which GitHub tokens may create check runs, and the request body of a completed check run (no PyGithub).

# NOTE: only a GitHub App may write to the Checks API ("Write permission for the REST API to interact with
checks is only available to GitHub Apps. OAuth apps and authenticated users can view check runs … but they
are not able to create them": docs.github.com/rest/checks/runs). A PAT gets HTTP 403 "You must authenticate
via a GitHub App." (actions/github-script#118). GitHub's token formats say the kind in a prefix
(github.blog, "Behind GitHub's new authentication token formats", 2021): `ghs_` is an App installation
token (Actions' GITHUB_TOKEN is one, and may create check runs with `checks: write`); `ghp_`,
`github_pat_`, `gho_` and `ghu_` are a person's or an OAuth app's and never may. Telling the kind from the
prefix costs no request, so a PAT's publish keeps its ≤ 4 writes; a token of no known format (an old GitHub
Enterprise Server's 40 hex digits) is tried once, and its 403 turns the run to a commit status.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mlgate.forge import CHECK_TITLE_LIMIT, CheckReport, truncate_description

APP_TOKEN_PREFIXES = ("ghs_",)
USER_TOKEN_PREFIXES = ("ghp_", "github_pat_", "gho_", "ghu_", "ghr_")
CHECKS_HINT = (
    "check runs need a GitHub App token, such as the Actions GITHUB_TOKEN with "
    "`permissions: {checks: write}`; a personal access token gets a commit status "
    "(`status.check_run: never` skips the attempt)"
)


def token_may_create_checks(token: str) -> bool | None:
    """True for an App installation token, False for a person's or OAuth token, None when unknown."""
    if token.startswith(APP_TOKEN_PREFIXES):
        return True
    if token.startswith(USER_TOKEN_PREFIXES):
        return False
    return None


def check_run_fields(check: CheckReport, now: datetime | None = None) -> dict[str, Any]:
    """The keyword arguments of PyGithub's `Repository.create_check_run` for a completed check (the caller
    has budgeted the summary to CHECK_SUMMARY_LIMIT bytes)."""
    fields: dict[str, Any] = {
        "status": "completed",
        "conclusion": check.conclusion,
        "completed_at": now or datetime.now(UTC),
        "output": {"title": truncate_description(check.title, CHECK_TITLE_LIMIT), "summary": check.summary},
    }
    if check.details_url:
        fields["details_url"] = check.details_url
    return fields
