"""A GitLab runner's side of the shipped template, through gitlab-ci-local: the project's CI files committed
as a user commits them, a throwaway clone, the merge request on the stateful fake forge, and one job run in
the mlgate image with the variables a merge request pipeline has, its API on the fake forge.

The job container shares the host's network (`--network host`, as tests/container/actionrun.py explains):
the fake forge listens on 127.0.0.1 only. The project access token is a project CI/CD variable, as the
template asks (MLGATE_TOKEN): it goes in gitlab-ci-local's variables file, never on a command line.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakeforge import FakeForge

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "group/project"
PROJECT_ID = 1217  # the CI_PROJECT_ID gitlab-ci-local sets
MR = 4
# a project access token's user is a bot named after the project, as on GitLab
BOT = f"project_{PROJECT_ID}_bot_0f3a"
TOKEN = "glpat-fakeProjectAccess00"
_REMOTE = f"https://gitlab.example.com/{PROJECT}.git"
_CI_FILES = (".gitlab-ci.yml", "templates/gitlab/mlgate.gitlab-ci.yml")


@dataclass(frozen=True)
class JobResult:
    """What gitlab-ci-local reported: its exit code (1 when the job failed), the job's log, and the folder
    the job's artifacts were exported to (gitlab-ci-local's state folder; missing when none were)."""

    returncode: int
    log: str
    artifacts: Path

    @property
    def tail(self) -> str:
        """The end of the log, for an assertion's message."""
        return self.log[-3000:]


def _git(project: Path, *args: str) -> str:
    identity = ["-c", "user.email=dev@example.invalid", "-c", "user.name=dev"]
    done = subprocess.run(["git", "-C", str(project), *identity, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def commit_ci_files(project: Path, mlgate_args: str) -> str:
    """This checkout's .gitlab-ci.yml and template in `project` with `MLGATE_ARGS` set, committed on the MR
    branch together with the metrics the demo trained; the head SHA."""
    (project / "templates" / "gitlab").mkdir(parents=True, exist_ok=True)
    for name in _CI_FILES:
        (project / name).write_bytes((ROOT / name).read_bytes())
    with (project / ".gitlab-ci.yml").open("a") as file:
        file.write(f"\nvariables:\n  MLGATE_ARGS: {mlgate_args}\n")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "MR metrics and the CI files")
    return _git(project, "rev-parse", "HEAD")


def open_mr(fake: FakeForge, head: str) -> None:
    """The project, its merge request at `head` and the project access token on the fake forge."""
    fake.gitlab.add_project(PROJECT, PROJECT_ID)
    fake.gitlab.add_mr(PROJECT, MR, head)
    fake.add_token(TOKEN, BOT)


def _mr_variables(fake: FakeForge, branch: str) -> dict[str, str]:
    """What GitLab sets in a merge request pipeline that gitlab-ci-local does not (it sets GITLAB_CI=false,
    no CI, a push pipeline, and a server taken from the `origin` remote)."""
    return {
        "CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_SERVER_URL": fake.gitlab_url, "CI_API_V4_URL": f"{fake.gitlab_url}/api/v4",
        "CI_MERGE_REQUEST_IID": str(MR), "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": branch,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    }  # fmt: skip


def run_job(
    tools: Path, project: Path, work: Path, fake: FakeForge, image: str, helper: str, job: str = "mlgate:mr"
) -> JobResult:
    """Run `job` of `project`'s .gitlab-ci.yml in `image` from a clone under `work`; `helper`: the local
    image gitlab-ci-local copies the checkout and the artifacts with (the machines reach no registry)."""
    clone = work / "repo"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    _git(clone, "remote", "set-url", "origin", _REMOTE)
    home = _variables_home(work / "home", {"MLGATE_TOKEN": TOKEN})
    variables = {**_mr_variables(fake, _git(clone, "branch", "--show-current")), "MLGATE_IMAGE": image}
    env = {**os.environ, "PATH": f"{tools / 'venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    command = [*_gitlab_ci_local(tools, home, helper, variables), job]
    done = subprocess.run(command, cwd=clone, capture_output=True, text=True, timeout=300, env=env)
    exported = sorted((clone / ".gitlab-ci-local" / "artifacts").glob("*"))
    artifacts = exported[0] if len(exported) == 1 else clone / "no-artifacts-exported"
    return JobResult(done.returncode, done.stdout + done.stderr, artifacts)


def _gitlab_ci_local(tools: Path, home: Path, helper: str, variables: dict[str, str]) -> list[str]:
    """The command line: docker executor on the host network, local images only, `variables` set (and no
    CI_COMMIT_BRANCH, which GitLab leaves unset in a merge request pipeline)."""
    command = [str(tools / "npm" / "node_modules" / ".bin" / "gitlab-ci-local"), "--home", str(home),
               "--helper-image", helper, "--pull-policy", "if-not-present", "--network", "host",
               "--no-color", "--unset-variable", "CI_COMMIT_BRANCH",
               "--ignore-predefined-vars", ",".join(variables)]  # fmt: skip
    for name, value in variables.items():
        command += ["--variable", f"{name}={value}"]
    return command


def _variables_home(home: Path, variables: dict[str, str]) -> Path:
    """gitlab-ci-local's home variables file with `variables` as the project's CI/CD variables."""
    key = _REMOTE.removeprefix("https://").removesuffix(".git")
    (home / ".gitlab-ci-local").mkdir(parents=True)
    # JSON is YAML: no quoting of the token's characters to get wrong
    (home / ".gitlab-ci-local" / "variables.yml").write_text(json.dumps({"project": {key: variables}}))
    return home


def bot_notes(fake: FakeForge) -> list[dict[str, Any]]:
    return [note for note in fake.gitlab.notes(PROJECT, MR) if note["username"] == BOT]


def statuses(fake: FakeForge) -> list[tuple[str, str, str]]:
    """(SHA, state, name) of each commit status, in order."""
    return [(s["sha"], s["status"], s["name"]) for s in fake.gitlab.project(PROJECT).statuses]
