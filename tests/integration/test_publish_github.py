"""`mlgate run` in a GitHub Actions job against the fake GitHub through real PyGithub: one sticky comment,
one status, the job summary and step outputs; publishing failures stay warnings; tokens never leak."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliRunner
from tests.fakeforge import FakeForge, Fault
from tests.fakeforge.ci_env import github_env, read_outputs, setup_project
from tests.fakeforge.drive import GITHUB_REPO
from tests.gitproject import GitProject

pytest_plugins = ["tests.fakeforge.fixtures"]


def _bot_comments(fake: FakeForge, number: int = 5) -> list[dict[str, object]]:
    return [c for c in fake.github.comments(GITHUB_REPO, number) if c["login"] == "mlgate-bot"]


def test_pr_run_posts_one_comment_one_status_outputs_and_summary_when_run_in_actions(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    pr_sha = setup_project(project, cli)
    result = cli("run", env=github_env(fake_forge, tmp_path, pr_sha))
    assert result.code == 1, result.err
    comments = _bot_comments(fake_forge)
    assert len(comments) == 1
    body = str(comments[0]["body"])
    assert body.startswith("<!-- mlgate:report id=default run=")
    assert "`acc`" in body
    assert "regressed" in body
    statuses = fake_forge.github.repos[GITHUB_REPO].statuses
    assert [(s["sha"], s["state"], s["context"]) for s in statuses] == [(pr_sha, "failure", "mlgate")]
    assert "1 regression (acc)" in statuses[0]["description"]
    outputs = read_outputs(tmp_path / "output.txt")
    assert outputs["verdict"] == "fail"
    assert outputs["report-path"] == "mlgate-report/report.md", "relative to the workspace"
    assert outputs["comment-url"].endswith(f"/octo/demo/pull/5#issuecomment-{comments[0]['id']}")
    assert statuses[0]["target_url"] == outputs["comment-url"]
    summary = (tmp_path / "summary.md").read_text()
    assert "regressed" in summary
    assert "/actions/runs/100" in summary, "the summary links the full run"
    assert "::error title=mlgate::acc: regressed" in result.out


def test_second_run_updates_the_comment_when_the_pr_runs_again(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    pr_sha = setup_project(project, cli)
    assert cli("run", env=github_env(fake_forge, tmp_path, pr_sha)).code == 1
    first_id = _bot_comments(fake_forge)[0]["id"]
    project.commit("better", metrics_dot_json={"acc": 0.95})
    second_sha = project.git("rev-parse", "HEAD")
    fake_forge.clear_log()
    again = cli("run", env=github_env(fake_forge, tmp_path, second_sha, run_id="101"))
    assert again.code == 0, again.err
    comments = _bot_comments(fake_forge)
    assert [c["id"] for c in comments] == [first_id], "updated in place, never duplicated"
    assert "0.95" in str(comments[0]["body"])
    assert [(w.method, w.path.rsplit("/", 2)[-2]) for w in fake_forge.writes()] == [
        ("PATCH", "comments"),
        ("POST", "statuses"),
    ]


def test_push_to_a_branch_with_an_open_pr_comments_on_that_pr_when_found_by_head_sha(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    pr_sha = setup_project(project, cli)
    fake_forge.github.add_pull(GITHUB_REPO, 9, pr_sha)
    result = cli("run", env=github_env(fake_forge, tmp_path, pr_sha, event="push", number=None))
    assert result.code == 1, result.err
    assert len(_bot_comments(fake_forge, 9)) == 1
    assert _bot_comments(fake_forge, 5) == []


def test_publishing_failure_is_a_warning_and_keeps_the_exit_code_when_every_write_fails(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    pr_sha = setup_project(project, cli)
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        fake_forge.inject(Fault.error_before(method, r".*", status=502, times=1000))
    result = cli("run", env=github_env(fake_forge, tmp_path, pr_sha))
    assert result.code == 1, "the gate's verdict stands"
    assert "mlgate: warning: publishing: comment failed" in result.err
    assert "mlgate: warning: publishing: commit status failed" in result.err
    assert read_outputs(tmp_path / "output.txt")["verdict"] == "fail", "outputs went out first"
    assert "Traceback" not in result.err


def test_require_publish_exits_3_when_the_writes_fail(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    pr_sha = setup_project(project, cli, acc=0.95)
    fake_forge.inject(Fault.error_before("POST", r"/statuses/", status=502, times=1000))
    result = cli("run", "--require-publish", env=github_env(fake_forge, tmp_path, pr_sha))
    assert result.code == 3
    assert "mlgate: error: --require-publish: publishing: commit status failed" in result.err
    assert len(_bot_comments(fake_forge)) == 1, "the other steps still ran"


def test_missing_token_warns_with_the_permissions_yaml_when_a_pr_has_none(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    pr_sha = setup_project(project, cli)
    env = github_env(fake_forge, tmp_path, pr_sha, token=None)
    result = cli("run", env=env)
    assert result.code == 1
    assert "no token to publish to github" in result.err
    assert "pull-requests: write, checks: write, statuses: write" in result.err
    assert fake_forge.log == []
    assert cli("run", "--require-publish", env=env).code == 3


def test_canary_token_appears_nowhere_when_a_param_and_a_failure_carry_it(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    canary = "ghp_CANARYcanary1234567890abcdefXYZ"
    fake_forge.add_token(canary, "mlgate-bot")
    setup_project(project, cli)
    project.commit("leak", params_dot_yaml=f"lr: 0.1\napi_key: {canary}\n")
    head = project.git("rev-parse", "HEAD")
    fake_forge.inject(Fault.error_before("POST", r"/statuses/", status=422, message=f"bad {canary}"))
    result = cli("run", "-v", env=github_env(fake_forge, tmp_path, head, token=canary))
    assert result.code == 1, result.err
    assert "***" in str(_bot_comments(fake_forge)[0]["body"]), "the param value was masked, not dropped"
    seen = [result.out, result.err]
    seen += [r.body + r.path + str(r.query) for r in fake_forge.log]
    written = [p for p in [*project.root.rglob("*"), *tmp_path.glob("*")] if _written_by_mlgate(p)]
    seen += [p.read_text(errors="replace") for p in written]
    assert len(written) >= 4, written
    assert [text for text in seen if canary in text] == []


def _written_by_mlgate(path: Path) -> bool:
    return path.is_file() and ".git" not in path.parts and path.name != "params.yaml"


def test_crashed_training_still_posts_why_and_fails_the_status(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    setup_project(project, cli)
    project.git("rm", "-q", "metrics.json")
    crash = "import sys\nprint('CUDA error: device lost', flush=True)\nsys.exit(3)\n"
    pr_sha = project.commit("crashing model", crash_dot_py=crash)
    command = f"{sys.executable} crash.py"  # a flag: the PR's own .mlgate.yml does not apply to its run
    result = cli("run", "--command", command, env=github_env(fake_forge, tmp_path, pr_sha))
    assert result.code == 3, result.err
    comments = _bot_comments(fake_forge)
    assert len(comments) == 1
    assert "CUDA error: device lost" in str(comments[0]["body"])
    statuses = fake_forge.github.repos[GITHUB_REPO].statuses
    assert [s["state"] for s in statuses] == ["failure"]


def test_pr_run_with_an_app_token_sends_one_check_run_with_the_report_and_no_status_within_4_writes(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    pr_sha = setup_project(project, cli, plots=True)
    fake_forge.clear_log()
    result = cli("run", env=github_env(fake_forge, tmp_path, pr_sha, token=FakeForge.GITHUB_ACTIONS_TOKEN))
    assert result.code == 1, result.err
    (check,) = fake_forge.github.check_runs(GITHUB_REPO, pr_sha)
    assert (check["name"], check["conclusion"]) == ("mlgate", "failure")
    assert "regressed" in check["output"]["summary"]
    assert "/blob/mlgate-assets/" in check["output"]["summary"], "the plots are linked, as in the comment"
    assert check["details_url"].endswith("/actions/runs/100")
    assert fake_forge.github.repos[GITHUB_REPO].statuses == []
    writes = [(w.method, w.path.rsplit("/", 1)[-1]) for w in fake_forge.writes() if "/git/" not in w.path]
    assert writes[-2:] == [("POST", "comments"), ("POST", "check-runs")]
    assert len(writes) <= 4, writes  # the one-time mlgate-assets branch (git/ writes) left out


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("schedule", {"schedule": "0 3 * * 1"}),
        (
            "workflow_dispatch",
            {"inputs": {}, "ref": "refs/heads/main", "repository": {"default_branch": "main"}},
        ),
    ],
)
def test_run_on_main_gates_against_the_last_baseline_and_saves_a_new_one_when_scheduled_or_dispatched(
    project: GitProject,
    cli: CliRunner,
    fake_forge: FakeForge,
    tmp_path: Path,
    event: str,
    payload: dict[str, Any],
) -> None:
    setup_project(project, cli)  # main's first commit has its baseline (acc 0.9)
    project.checkout("main")
    sha = project.commit("fresh data", metrics_dot_json={"acc": 0.85})
    env = github_env(fake_forge, tmp_path, sha, event=event, payload=payload)
    env |= {"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main"}
    result = cli("run", env=env)
    assert result.code == 1, result.err
    assert f"baseline saved for {sha[:12]}" in result.out, "saved as a push to main saves it"
    assert sha in project.git("notes", "--ref=refs/notes/mlgate", "list")
    assert "regressed" in (tmp_path / "summary.md").read_text(), "compared with the last baseline"
    statuses = fake_forge.github.repos[GITHUB_REPO].statuses
    assert [(s["sha"], s["state"]) for s in statuses] == [(sha, "failure")]
    assert fake_forge.github.comments(GITHUB_REPO, 5) == [], "no PR: no comment"
    assert [r.path for r in fake_forge.log if "/pulls" in r.path] == [], "no PR looked up for the SHA"
