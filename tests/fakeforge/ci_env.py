"""CI environments pointed at the fake forge, and a project with a baseline on main and a PR branch.

`github_env(...)` / `gitlab_env(...)` return the Mapping a GitHub Actions / GitLab CI job would have (the
event payload written to a file), so the tests drive `cli.main([...], env=...)` exactly as CI does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import CliRunner
from tests.fakeforge import FakeForge
from tests.fakeforge.drive import GITHUB_REPO, GITLAB_PROJECT, GITLAB_PROJECT_ID
from tests.gitproject import GitProject

CONFIG = """\
metrics: [metrics.json]
params: [params.yaml]
gates:
  - {metric: acc, abs: 0.01}
baseline: {stores: [git-notes]}
"""
PLOTS = """\
plots:
  - {kind: curve, path: history.csv, x: epoch, y: [loss]}
  - {kind: bars}
"""
HISTORY = "epoch,loss\n0,1.0\n1,0.6\n2,0.4\n"


def setup_project(project: GitProject, cli: CliRunner, *, acc: float = 0.8, plots: bool = False) -> str:
    """main with acc 0.9 and its baseline in git notes; branch `feature` with `acc`; returns its SHA."""
    config = CONFIG + (PLOTS if plots else "")
    files: dict[str, str | dict[str, Any]] = {
        ".mlgate.yml": config,
        "metrics_dot_json": {"acc": 0.9},
        "params_dot_yaml": "lr: 0.1\n",
    }
    if plots:
        files["history_dot_csv"] = HISTORY
    project.write(".gitignore", "mlgate-report/\n.mlgate/\nmlgate-published/\n")
    project.commit("model", **files)
    saved = cli("run", env={})
    assert saved.code == 0, saved.err
    project.branch("feature")
    return project.commit("change", metrics_dot_json={"acc": acc})


def github_env(
    fake: FakeForge,
    tmp_path: Path,
    head_sha: str,
    *,
    event: str = "pull_request",
    number: int | None = 5,
    token: str | None = FakeForge.GITHUB_BOT_TOKEN,
    head_repo: str = GITHUB_REPO,
    run_id: str = "100",
    payload: dict[str, Any] | None = None,
) -> dict[str, str]:
    """A GitHub Actions job's environment; GITHUB_SHA is a synthetic merge commit, not the PR head."""
    if payload is None:
        payload = {"repository": {"full_name": GITHUB_REPO, "default_branch": "main"}}
        if event == "pull_request":
            payload["pull_request"] = {
                "number": number,
                "head": {"sha": head_sha, "ref": "feature", "repo": {"full_name": head_repo}},
                "base": {"ref": "main", "repo": {"full_name": GITHUB_REPO}},
            }
    event_path = tmp_path / f"event-{run_id}.json"
    event_path.write_text(json.dumps(payload))
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": GITHUB_REPO,
        "GITHUB_API_URL": fake.github_api_url,
        "GITHUB_SERVER_URL": fake.server.base,
        "GITHUB_RUN_ID": run_id,
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_SHA": "9" * 40 if event == "pull_request" else head_sha,
        "GITHUB_REF": f"refs/pull/{number}/merge" if event == "pull_request" else "refs/heads/feature",
        "GITHUB_REF_NAME": f"{number}/merge" if event == "pull_request" else "feature",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
    }
    if token:
        env["GITHUB_TOKEN"] = token
    return env


def gitlab_env(
    fake: FakeForge,
    head_sha: str,
    *,
    iid: int | None = 3,
    token: str | None = FakeForge.GITLAB_BOT_TOKEN,
    job_token: str | None = None,
) -> dict[str, str]:
    """A GitLab CI merge request pipeline's environment."""
    env = {
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event" if iid else "push",
        "CI_SERVER_URL": fake.gitlab_url,
        "CI_API_V4_URL": f"{fake.gitlab_url}/api/v4",
        "CI_PROJECT_PATH": GITLAB_PROJECT,
        "CI_PROJECT_ID": str(GITLAB_PROJECT_ID),
        "CI_PROJECT_URL": f"{fake.gitlab_url}/{GITLAB_PROJECT}",
        "CI_COMMIT_SHA": head_sha,
        "CI_PIPELINE_ID": "200",
        "CI_JOB_URL": f"{fake.gitlab_url}/{GITLAB_PROJECT}/-/jobs/201",
        "CI_DEFAULT_BRANCH": "main",
    }
    if iid:
        env |= {"CI_MERGE_REQUEST_IID": str(iid), "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
    if token:
        env["GITLAB_TOKEN"] = token
    if job_token:
        env["CI_JOB_TOKEN"] = job_token
    return env


def read_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT's `name=value` lines (the last value of a name wins, as in Actions)."""
    outputs: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        outputs[name] = value
    return outputs


def comment_env(
    fake: FakeForge,
    tmp_path: Path,
    body: str,
    *,
    author: str = "bob",
    association: str = "MEMBER",
    action: str = "created",
    number: int = 5,
    run_id: str = "300",
    base_sha: str = "0" * 40,
    token: str | None = FakeForge.GITHUB_BOT_TOKEN,
) -> dict[str, str]:
    """An `issue_comment` job: the comment is stored on the fake PR first; GITHUB_SHA is the default
    branch's head (`base_sha`), as GitHub sets it for this event."""
    comment_id = fake.github.add_comment(GITHUB_REPO, number, author, body)
    payload = {
        "action": action,
        "repository": {"full_name": GITHUB_REPO, "default_branch": "main"},
        "issue": {"number": number, "pull_request": {"url": f"{fake.github_api_url}/pulls/{number}"}},
        "comment": {
            "id": comment_id,
            "body": body,
            "user": {"login": author},
            "author_association": association,
        },
    }
    env = github_env(
        fake, tmp_path, base_sha, event="issue_comment", run_id=run_id, payload=payload, token=token
    )
    env |= {"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_SHA": base_sha}
    return env
