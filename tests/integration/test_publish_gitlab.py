"""`mlgate run` in a GitLab merge request pipeline against the fake GitLab through real python-gitlab: one
MR note, one status, the metrics report and JUnit files; quick actions never come from untrusted text."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import CliRunner
from tests.fakeforge import FakeForge
from tests.fakeforge.ci_env import gitlab_env, setup_project
from tests.fakeforge.drive import GITLAB_PROJECT
from tests.gitproject import GitProject

pytest_plugins = ["tests.fakeforge.fixtures"]


def _bot_notes(fake: FakeForge) -> list[dict[str, object]]:
    return [n for n in fake.gitlab.notes(GITLAB_PROJECT, 3) if n["username"] == "mlgate-bot"]


def test_mr_run_posts_one_note_one_status_and_the_widget_files_when_run_twice(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge
) -> None:
    pr_sha = setup_project(project, cli)
    first = cli("run", env=gitlab_env(fake_forge, pr_sha))
    assert first.code == 1, first.err
    second = cli("run", env=gitlab_env(fake_forge, pr_sha))
    assert second.code == 1, second.err
    notes = _bot_notes(fake_forge)
    assert len(notes) == 1
    assert "regressed" in str(notes[0]["body"])
    statuses = fake_forge.gitlab.project(GITLAB_PROJECT).statuses
    assert {(s["sha"], s["status"], s["name"]) for s in statuses} == {(pr_sha, "failed", "mlgate")}
    folder = project.root / "mlgate-report"
    assert (folder / "metrics.txt").read_text() == "acc 0.8\n"
    junit = (folder / "junit.xml").read_text()
    assert re.search(r'<testcase classname="mlgate.gate" name="acc"><failure message="regressed', junit)
    assert f"/{GITLAB_PROJECT}/-/merge_requests/3#note_{notes[0]['id']}" in first.out


def test_note_never_starts_a_line_with_a_slash_when_metric_names_and_params_try_quick_actions(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge
) -> None:
    setup_project(project, cli)
    project.commit(
        "evil",
        metrics_dot_json={"acc": 0.8, "\n/close": 1.0, "/approve": 2.0},
        params_dot_yaml='lr: "\\n/merge"\n"/assign @me": x\n',
    )
    head = project.git("rev-parse", "HEAD")
    assert cli("run", env=gitlab_env(fake_forge, head)).code == 1
    body = str(_bot_notes(fake_forge)[0]["body"])
    assert "approve" in body
    assert [line for line in body.split("\n") if line.lstrip().startswith("/")] == []


def test_job_token_only_warns_naming_the_api_scope_when_no_access_token_is_set(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    pr_sha = setup_project(project, cli)
    env = gitlab_env(fake_forge, pr_sha, token=None, job_token=FakeForge.GITLAB_JOB_TOKEN)
    result = cli("run", env=env)
    assert result.code == 1
    assert "the `api` scope" in result.err
    assert "CI_JOB_TOKEN cannot write merge request notes" in result.err
    assert fake_forge.writes() == []
    assert (project.root / "mlgate-report" / "junit.xml").is_file(), "the widget files still go out"
