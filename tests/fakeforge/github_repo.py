"""One fake GitHub repository's state: comments, statuses, PRs and its git objects, as plain dicts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def git_sha(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


@dataclass
class GitHubRepo:
    """One repository's state."""

    full_name: str
    id: int
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    hidden: dict[int, int] = field(default_factory=dict)  # comment id → listings it is still missing from
    statuses: list[dict[str, Any]] = field(default_factory=list)
    check_runs: list[dict[str, Any]] = field(default_factory=list)  # {id, name, head_sha, conclusion, …}
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, dict[str, str]] = field(default_factory=dict)  # tree sha → {path: blob sha}
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # "refs/heads/x" → commit sha
    pulls: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)  # {comment_id, login, content}
    permissions: dict[str, str] = field(default_factory=dict)  # login → admin|maintain|write|triage|read
    permission_api_forbidden: bool = False  # the collaborator-permission API answers 403
    commit_comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id → {sha, login, body, …}
    runs: list[dict[str, Any]] = field(
        default_factory=list
    )  # Actions runs: {id, head_sha, branch, artifacts}
