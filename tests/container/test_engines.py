"""The shipped CI files in real engines: act runs self-test.yml, gitlab-ci-local runs the GitLab template."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.container.conftest import BASE_IMAGE, CACHE, ROOT, copy_project, harness

pytestmark = pytest.mark.container


def _tool_env(tools: Path, **extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(tools / "venv" / "bin"), str(tools / "npm" / "node_modules" / ".bin")])
    return {"PATH": f"{path}{os.pathsep}{os.environ['PATH']}", "CACHE_DIR": str(CACHE), **extra}


def test_act_runs_self_test_workflow_when_pull_request_event(mlgate_image: str, ci_tools: Path) -> None:
    # MIN_API_CALLS=0: the self-test runs the action with --dry-run, which never calls the API
    env = _tool_env(ci_tools, BASE_TAG=BASE_IMAGE, MIN_API_CALLS="0")
    done = harness("ci-act-smoke.sh", str(ROOT), ".github/workflows/self-test.yml", "pull_request", env=env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "Job succeeded" in done.stdout
    assert re.search(r"mlgate: (pass|warn): 0 failing", done.stdout), done.stdout[-2000:]


def test_gitlab_template_mr_job_passes_when_demo_mr_improves(
    mlgate_image: str, ci_tools: Path, demo_passing: Path, tmp_path: Path
) -> None:
    project = copy_project(demo_passing, tmp_path / "project")
    (project / "templates" / "gitlab").mkdir(parents=True)
    for name in (".gitlab-ci.yml", "templates/gitlab/mlgate.gitlab-ci.yml"):
        (project / name).write_bytes((ROOT / name).read_bytes())
    # as a user's own file would: the image has no scikit-learn, so gate the metrics the demo trained
    with (project / ".gitlab-ci.yml").open("a") as file:
        file.write("\nvariables:\n  MLGATE_ARGS: --no-train\n")
    git = ["git", "-C", str(project), "-c", "user.email=t@example.invalid", "-c", "user.name=t"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "PR metrics and the CI files"], check=True)
    env = _tool_env(ci_tools, IMAGE=mlgate_image)
    done = harness("ci-gitlab-local-smoke.sh", str(project), "mlgate:mr", env=env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert re.search(r"> mlgate: (pass|warn): 0 failing", done.stdout), done.stdout[-2000:]
    assert "report: /builds/group/project/mlgate-report/report.md" in done.stdout
