"""The shipped CI files in real engines: act runs self-test.yml; gitlab-ci-local runs the GitLab template's MR
job against the stateful fake forge (tests/container/gitlabrun.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.container import gitlabrun
from tests.container.conftest import BASE_IMAGE, CACHE, ROOT, copy_project, harness
from tests.fakeforge import FakeForge

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


def _mr_job(
    tools: Path, image: str, helper: str, demo: Path, fake: FakeForge, tmp_path: Path
) -> tuple[str, gitlabrun.JobResult]:
    """The template's `mlgate:mr` job on a copy of `demo`, its MR open on the fake forge: (head SHA, result).
    `--no-train`, as a user's own file would: the image has no scikit-learn; the demo's metrics are gated."""
    project = copy_project(demo, tmp_path / "project")
    head = gitlabrun.commit_ci_files(project, "--no-train")
    gitlabrun.open_mr(fake, head)
    return head, gitlabrun.run_job(tools, project, tmp_path, fake, image, helper)


def _quick_actions(body: str) -> list[str]:
    return [line for line in body.splitlines() if line.lstrip().startswith("/")]


def test_gitlab_template_mr_job_posts_one_note_and_a_success_status_when_demo_mr_improves(
    mlgate_image: str, gcl_helper_image: str, ci_tools: Path, demo_passing: Path, tmp_path: Path
) -> None:
    with FakeForge() as fake:
        head, job = _mr_job(ci_tools, mlgate_image, gcl_helper_image, demo_passing, fake, tmp_path)
        notes, statuses = gitlabrun.bot_notes(fake), gitlabrun.statuses(fake)
    assert job.returncode == 0, job.tail
    assert re.search(r"PASS\s+mlgate:mr", job.log), job.tail
    assert re.search(r"> mlgate: (pass|warn): 0 failing", job.log), job.tail
    assert len(notes) == 1, [n["username"] for n in notes]
    body = notes[0]["body"]
    assert body.startswith("<!-- mlgate:report id=default run="), body[:200]
    assert "| `eval.accuracy` |" in body
    assert _quick_actions(body) == []
    assert f"/{gitlabrun.PROJECT}/-/merge_requests/{gitlabrun.MR}#note_{notes[0]['id']}" in job.log
    assert statuses == [(head, "success", "mlgate")]
    report = job.artifacts / "mlgate-report"
    assert (report / "metrics.txt").read_text().startswith("eval_accuracy 0.93"), "GitLab's metrics report"
    assert '<testsuite name="mlgate" tests="4" failures="0">' in (report / "junit.xml").read_text()
    assert gitlabrun.TOKEN not in job.log


def test_gitlab_template_mr_job_fails_with_a_failed_status_when_demo_mr_regresses(
    mlgate_image: str, gcl_helper_image: str, ci_tools: Path, demo_failing: Path, tmp_path: Path
) -> None:
    with FakeForge() as fake:
        head, job = _mr_job(ci_tools, mlgate_image, gcl_helper_image, demo_failing, fake, tmp_path)
        notes, statuses = gitlabrun.bot_notes(fake), gitlabrun.statuses(fake)
    assert job.returncode == 1, job.tail
    assert re.search(r"mlgate:mr finished in .* FAIL 1\b", job.log), "the job's script exited 1: " + job.tail
    assert len(notes) == 1
    assert "regressed" in notes[0]["body"]
    assert _quick_actions(notes[0]["body"]) == []
    assert statuses == [(head, "failed", "mlgate")]
    junit = (job.artifacts / "mlgate-report" / "junit.xml").read_text()
    assert re.search(r'name="eval.accuracy"><failure message="regressed', junit), junit[:1000]
