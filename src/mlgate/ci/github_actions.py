"""GitHub Actions: the CiContext from `GITHUB_*` and the event payload, and the runner's own channels
(the job summary file, the step outputs file, `::error`/`::warning` workflow commands).

For `pull_request` the head SHA is the PR head's (`pull_request.head.sha` in the payload), not GITHUB_SHA:
that is the synthetic merge commit, on which a status would never show on the PR.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mlgate.ci import CiContext, env_path, pick_token, positive_int
from mlgate.record import Record

SUMMARY_LIMIT = 1024 * 1024  # NOTE: GitHub refuses a job summary over 1 MiB per step ("upload aborted")
MAX_ANNOTATIONS = 10  # NOTE: GitHub shows at most 10 error and 10 warning annotations per step
_CHANGE_EVENTS = ("pull_request", "pull_request_target")


def detect(env: Mapping[str, str]) -> CiContext:
    check_action_inputs(env)
    payload = load_event(env.get("GITHUB_EVENT_PATH"))
    event = env.get("GITHUB_EVENT_NAME", "push")
    repo = env.get("GITHUB_REPOSITORY") or None
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    token, source = pick_token(env, "GITHUB_TOKEN", "GH_TOKEN")
    run_id = env.get("GITHUB_RUN_ID") or None
    head, branch, base, number, fork = _change(event, payload, env)
    # NOTE: a `schedule` payload has no `repository`; GitHub runs a scheduled workflow "on the latest commit
    # on the default branch" (docs: Events that trigger workflows, schedule), so its branch is the default.
    scheduled_on = branch if event == "schedule" else None
    return CiContext(
        provider="github-actions",
        forge="github",
        event=event,
        repo=repo,
        repo_url=f"{server}/{repo}" if repo else None,
        api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        server_url=server,
        head_sha=head,
        branch=branch,
        base_branch=base,
        number=number,
        default_branch=_get(payload, "repository", "default_branch") or scheduled_on,
        run_id=run_id,
        run_attempt=env.get("GITHUB_RUN_ATTEMPT") or None,
        run_url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else None,
        token=token,
        token_source=source,
        fork=fork,
        step_summary=env_path(env, "GITHUB_STEP_SUMMARY"),
        output=env_path(env, "GITHUB_OUTPUT"),
    )


def check_action_inputs(env: Mapping[str, str]) -> None:
    """Inside mlgate's own container action, every `with:` input must be one action.yml declares.

    NOTE: the runner passes each `with:` key as `INPUT_<NAME>` and only warns about one the action does not
    declare, so a typo (`train_command:`, `treshold:`) would be ignored quietly; action.yml lists its inputs
    in MLGATE_ACTION_INPUTS (tests/container keep that list equal to its `inputs:`).
    """
    declared = env.get("MLGATE_ACTION_INPUTS")
    if declared is None:
        return
    known = {name.upper() for name in declared.split()}
    unknown = sorted(
        n[len("INPUT_") :] for n in env if n.startswith("INPUT_") and n[len("INPUT_") :] not in known
    )
    if unknown:
        from mlgate.errors import UsageError

        names = ", ".join(name.lower() for name in unknown)
        raise UsageError(
            f"action input {names}", "not an input of mlgate's action", hint=f"valid: {declared}"
        )


def _change(
    event: str, payload: dict[str, Any], env: Mapping[str, str]
) -> tuple[str | None, str | None, str | None, int | None, bool]:
    """(head SHA, branch, base branch, PR number, fork) for the event."""
    sha = env.get("GITHUB_SHA") or None
    ref = env.get("GITHUB_REF", "")
    branch = env.get("GITHUB_REF_NAME") if ref.startswith("refs/heads/") else None
    if event in _CHANGE_EVENTS and isinstance(payload.get("pull_request"), dict):
        pull = payload["pull_request"]
        head_repo = _get(pull, "head", "repo", "full_name")
        base_repo = _get(pull, "base", "repo", "full_name")
        fork = head_repo is not None and base_repo is not None and head_repo != base_repo
        head = _get(pull, "head", "sha") or sha
        return (
            head,
            _get(pull, "head", "ref"),
            _get(pull, "base", "ref"),
            positive_int(pull.get("number")),
            fork,
        )
    if event == "workflow_run" and isinstance(payload.get("workflow_run"), dict):
        run = payload["workflow_run"]
        pulls = run.get("pull_requests") or []
        number = positive_int(pulls[0].get("number")) if pulls and isinstance(pulls[0], dict) else None
        return run.get("head_sha") or sha, run.get("head_branch"), None, number, False
    if event == "issue_comment" and _get(payload, "issue", "pull_request") is not None:
        return sha, branch, None, positive_int(_get(payload, "issue", "number")), False
    return sha, branch, None, None, False


class CommentEvent(Record):
    """An `issue_comment` event on a pull request: the comment, who wrote it, and the PR number.

    `association` is GitHub's author_association (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE, …), the
    fallback authority when the token cannot read the collaborator permission.
    """

    action: str
    comment_id: int
    body: str
    author: str
    association: str
    number: int


def comment_event(env: Mapping[str, str]) -> CommentEvent | None:
    """The PR comment of an `issue_comment` run, or None (another event, an issue, or a malformed payload)."""
    if env.get("GITHUB_EVENT_NAME") != "issue_comment":
        return None
    payload = load_event(env.get("GITHUB_EVENT_PATH"))
    comment, number = payload.get("comment"), positive_int(str(_get(payload, "issue", "number")))
    if _get(payload, "issue", "pull_request") is None or number is None or not isinstance(comment, dict):
        return None
    comment_id, body = comment.get("id"), comment.get("body")
    author = _get(comment, "user", "login")
    if not isinstance(comment_id, int) or not isinstance(body, str) or not isinstance(author, str):
        return None
    association = comment.get("author_association")
    return CommentEvent(
        action=str(payload.get("action") or ""),
        comment_id=comment_id,
        body=body,
        author=author,
        association=association if isinstance(association, str) else "NONE",
        number=number,
    )


def load_event(path: str | None) -> dict[str, Any]:
    """The event payload, or {} when the file is missing or not a JSON object."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, (str, int, dict)) else None


# ------------------------------------------------------------------------------------ runner channels


def write_outputs(path: Path, outputs: Mapping[str, str]) -> None:
    """Append `name=value` lines to GITHUB_OUTPUT (values on one line: CR/LF removed)."""
    lines = [f"{name}={' '.join(value.splitlines())}" for name, value in outputs.items()]
    with path.open("a", encoding="utf-8") as out:
        out.write("".join(line + "\n" for line in lines))


def append_summary(path: Path, markdown: str) -> None:
    """Append `markdown` to the job summary; the caller keeps it within SUMMARY_LIMIT bytes."""
    with path.open("a", encoding="utf-8") as out:
        out.write(markdown if markdown.endswith("\n") else markdown + "\n")


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF percent-encoded (GitHub's toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,` encoded (`escapeProperty`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(level: str, title: str, message: str) -> str:
    """One `::error title=…::message` (or `::warning`) line."""
    return f"::{level} title={escape_property(title)}::{escape_data(message)}"


def annotation_lines(level: str, messages: Iterable[str], title: str) -> list[str]:
    """At most MAX_ANNOTATIONS lines of `level`; the last one says how many more there were."""
    items = list(messages)
    if len(items) > MAX_ANNOTATIONS:
        extra = len(items) - (MAX_ANNOTATIONS - 1)
        items = [*items[: MAX_ANNOTATIONS - 1], f"… and {extra} more: see the job summary"]
    return [annotation(level, title, message) for message in items]
