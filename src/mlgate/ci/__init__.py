"""The CI environment: the one place (with config.py) that reads the process environment.

`detect(env, cwd)` turns the variables of the CI provider into one CiContext, so nothing else ever reads
`GITHUB_*`, `CI_*` or `CHANGE_*`:

    GitHub Actions   ci/github_actions.py   (GITHUB_ACTIONS=true; the event payload at GITHUB_EVENT_PATH)
    GitLab CI        ci/gitlab_ci.py        (GITLAB_CI=true; CI_MERGE_REQUEST_*, CI_API_V4_URL)
    Jenkins          ci/jenkins.py          (JENKINS_URL; CHANGE_ID, GIT_COMMIT; the forge named by --forge)
    local            ci/local.py            (git only; no forge unless --forge names one)

Tokens: MLGATE_TOKEN wins over GITHUB_TOKEN / GITLAB_TOKEN, which win over CI_JOB_TOKEN. A token never
appears in a CiContext's repr; `secrets` lists every token-like value of the environment for the Masker.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import field, replace
from pathlib import Path
from typing import Literal

from mlgate.record import Record

ForgeName = Literal["github", "gitlab", "none"]
SECRET_VARIABLES = ("MLGATE_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN", "GH_TOKEN")
# NOTE: a training's log tail is posted through the API, where the runner's own secret masking does not reach
# (it masks the job log only), so any variable named like a credential is masked too: HF_TOKEN, WANDB_API_KEY,
# AWS_SECRET_ACCESS_KEY, DOCKER_PASSWORD ... Values under 8 characters are left alone (flags, not keys).
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)(?:$|_)"
)
_MIN_SECRET_VALUE = 8


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """The values to mask: the forge tokens, and every variable whose name says it holds a credential."""
    named = (v for k, v in env.items() if _SECRET_NAME.search(k.upper()) and len(v) >= _MIN_SECRET_VALUE)
    return tuple(dict.fromkeys([*(env[n] for n in SECRET_VARIABLES if env.get(n)), *named]))


class CiContext(Record):
    """Where this run happens: provider, forge, repository, event, the change (PR/MR) and the URLs."""

    provider: str
    forge: ForgeName
    event: str
    repo: str | None = None
    repo_url: str | None = None
    api_url: str | None = None
    server_url: str | None = None
    head_sha: str | None = None
    branch: str | None = None
    base_branch: str | None = None
    number: int | None = None
    default_branch: str | None = None
    run_id: str | None = None
    run_attempt: str | None = None
    run_url: str | None = None
    token: str | None = field(default=None, repr=False)
    token_source: str | None = None
    bot_login: str | None = None
    fork: bool = False
    step_summary: Path | None = None
    output: Path | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def is_default_branch(self) -> bool:
        """A push (or schedule, dispatch) on the default branch, not a change."""
        return self.number is None and self.branch is not None and self.branch == self.default_branch

    @property
    def read_only_token(self) -> bool:
        """A GitHub `pull_request` run from a fork: its token cannot comment or set statuses."""
        return self.fork and self.provider == "github-actions" and self.event == "pull_request"

    @property
    def is_ci(self) -> bool:
        return self.provider != "local"


def process_env() -> Mapping[str, str]:
    """A snapshot of the environment, handed to everything else as a plain Mapping."""
    return dict(os.environ)


def detect(env: Mapping[str, str], cwd: Path, *, forge: str | None = None) -> CiContext:
    """The CiContext of this process; `forge` is the `--forge` flag (required to publish from Jenkins)."""
    from mlgate.ci import github_actions, gitlab_ci, jenkins, local

    if env.get("GITHUB_ACTIONS") == "true":
        ctx = github_actions.detect(env)
    elif env.get("GITLAB_CI") == "true":
        ctx = gitlab_ci.detect(env)
    elif env.get("JENKINS_URL") or env.get("JENKINS_HOME"):
        ctx = jenkins.detect(env, forge)
    else:
        ctx = local.detect(env, cwd, forge)
    ctx = replace(ctx, secrets=secret_values(env), bot_login=env.get("MLGATE_BOT_LOGIN") or None)
    if forge is not None and forge != ctx.forge:
        ctx = replace(ctx, forge=forge_name(forge))
    return ctx


def forge_name(value: str) -> ForgeName:
    if value == "github":
        return "github"
    if value == "gitlab":
        return "gitlab"
    return "none"


def pick_token(env: Mapping[str, str], *names: str) -> tuple[str | None, str | None]:
    """(token, the variable it came from): MLGATE_TOKEN first, then `names` in order."""
    for name in ("MLGATE_TOKEN", *names):
        if env.get(name):
            return env[name], name
    return None, None


def positive_int(text: str | None) -> int | None:
    """`text` as a PR/MR number, or None when it is missing or not a positive integer."""
    if text is None or not str(text).strip().isdigit():
        return None
    number = int(str(text).strip())
    return number if number > 0 else None


def env_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value) if value else None
