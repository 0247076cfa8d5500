"""Jenkins (multibranch pipelines): the CiContext from CHANGE_ID, GIT_COMMIT, CHANGE_TARGET, BRANCH_NAME.

Jenkins does not say which code host it builds for, so the forge comes from `--forge`; the repository is
read from CHANGE_URL (a PR build) or GIT_URL, and the API root is derived from its host (github.com →
api.github.com, a GitHub Enterprise host → HOST/api/v3, a GitLab host → HOST) unless MLGATE_API_URL says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mlgate.ci import CiContext, forge_name, pick_token, positive_int

_REMOTE = re.compile(r"^(?:https?://|ssh://)?(?:[^@/]+@)?(?P<host>[^/:]+)[:/](?P<path>.+?)(?:\.git)?/?$")
_CHANGE_PATH = re.compile(r"/(?:-/)?(?:pull|merge_requests)/\d+.*$")


def detect(env: Mapping[str, str], forge: str | None) -> CiContext:
    kind = forge_name(forge or env.get("MLGATE_FORGE", "none"))
    host, repo = parse_remote(_CHANGE_PATH.sub("", env.get("CHANGE_URL", "")) or env.get("GIT_URL", ""))
    server = f"https://{host}" if host else None
    token, source = pick_token(env, "GITLAB_TOKEN" if kind == "gitlab" else "GITHUB_TOKEN")
    number = positive_int(env.get("CHANGE_ID"))
    return CiContext(
        provider="jenkins",
        forge=kind,
        event="pull_request" if number else "push",
        repo=repo,
        repo_url=f"{server}/{repo}" if server and repo else None,
        api_url=env.get("MLGATE_API_URL") or api_url_for(kind, host),
        server_url=server,
        head_sha=env.get("GIT_COMMIT") or None,
        branch=env.get("CHANGE_BRANCH") or env.get("BRANCH_NAME") or None,
        base_branch=env.get("CHANGE_TARGET") or None,
        number=number,
        default_branch=env.get("MLGATE_DEFAULT_BRANCH") or None,
        run_id=env.get("BUILD_NUMBER") or None,
        run_url=env.get("BUILD_URL") or None,
        token=token,
        token_source=source,
    )


def parse_remote(url: str) -> tuple[str | None, str | None]:
    """(host, `owner/name`) of a clone or web URL; (None, None) when it is not one."""
    found = _REMOTE.match(url.strip())
    if not found or "/" not in found["path"]:
        return None, None
    return found["host"], found["path"].strip("/")


def api_url_for(kind: str, host: str | None) -> str | None:
    if host is None or kind == "none":
        return None
    if kind == "gitlab":
        return f"https://{host}/api/v4"
    return "https://api.github.com" if host == "github.com" else f"https://{host}/api/v3"
