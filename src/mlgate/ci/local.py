"""A terminal (no CI): the CiContext from git alone. No forge unless `--forge` names one; then the
repository and API root come from the `origin` remote (or MLGATE_REPO / MLGATE_API_URL).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from mlgate.ci import CiContext, forge_name, pick_token
from mlgate.ci.jenkins import api_url_for, parse_remote


def detect(env: Mapping[str, str], cwd: Path, forge: str | None) -> CiContext:
    kind = forge_name(forge or "none")
    host, repo = parse_remote(_git(cwd, "remote", "get-url", "origin") or "")
    repo = env.get("MLGATE_REPO") or repo
    token, source = pick_token(env, "GITLAB_TOKEN" if kind == "gitlab" else "GITHUB_TOKEN")
    server = f"https://{host}" if host else None
    return CiContext(
        provider="local",
        forge=kind,
        event="local",
        repo=repo,
        repo_url=f"{server}/{repo}" if server and repo else None,
        api_url=env.get("MLGATE_API_URL") or api_url_for(kind, host),
        server_url=server,
        head_sha=_git(cwd, "rev-parse", "--verify", "--quiet", "HEAD"),
        branch=_git(cwd, "symbolic-ref", "--quiet", "--short", "HEAD"),
        default_branch=None,
        token=token,
        token_source=source,
    )


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
