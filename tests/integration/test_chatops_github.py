"""`/mlgate` PR comments through `mlgate run` on an `issue_comment` event, against the fake GitHub through
real PyGithub: authorization, reactions, accept bound to the head SHA, explain, help, run, fork safety."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult, CliRunner
from tests.fakeforge import FakeForge
from tests.fakeforge.ci_env import comment_env, github_env, setup_project
from tests.fakeforge.drive import GITHUB_REPO, GITLAB_PROJECT, run_concurrently
from tests.gitproject import GitProject

pytest_plugins = ["tests.fakeforge.fixtures"]


@pytest.fixture
def pr_sha(project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path) -> str:
    """A regressed PR #5 (acc 0.9 → 0.8) by alice, gated once; the clone is back on main, as for a comment."""
    sha = setup_project(project, cli)
    fake_forge.github.pull(GITHUB_REPO, 5)["head"] = sha
    fake_forge.github.set_permission(GITHUB_REPO, "bob", "write")
    fake_forge.github.set_permission(GITHUB_REPO, "alice", "write")
    assert cli("run", env=github_env(fake_forge, tmp_path, sha)).code == 1
    project.checkout("main")
    fake_forge.clear_log()
    return sha


def _comment(cli: CliRunner, fake: FakeForge, tmp_path: Path, body: str, **options: Any) -> CliResult:
    return cli("run", env=comment_env(fake, tmp_path, body, **options))


def _bot_comments(fake: FakeForge) -> list[dict[str, object]]:
    return [c for c in fake.github.comments(GITHUB_REPO, 5) if c["login"] == "mlgate-bot"]


def _sticky(fake: FakeForge) -> str:
    ours = [c for c in _bot_comments(fake) if str(c["body"]).startswith("<!-- mlgate:report")]
    assert len(ours) == 1, ours
    return str(ours[0]["body"])


def _last_status(fake: FakeForge, sha: str) -> tuple[str, str]:
    mine = [s for s in fake.github.repos[GITHUB_REPO].statuses if s["sha"] == sha]
    return mine[-1]["state"], mine[-1]["description"]


def _writes(fake: FakeForge) -> list[str]:
    return [f"{w.method} {w.path.split('/', 6)[-1]}" for w in fake.writes()]


def _replies(fake: FakeForge) -> list[str]:
    return [str(c["body"]) for c in _bot_comments(fake) if not str(c["body"]).startswith("<!-- mlgate")]


def test_accept_turns_the_status_success_with_one_banner_when_a_maintainer_accepts(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    result = _comment(cli, fake_forge, tmp_path, "/MLGATE accept: known trade-off for latency")
    assert result.code == 0, result.err
    state, description = _last_status(fake_forge, pr_sha)
    assert (state, description) == ("success", "accepted by @bob: 1 regression (acc)")
    body = _sticky(fake_forge)
    assert "Accepted by @bob: known trade-off for latency" in body
    assert body.index("Accepted by @bob") < body.index("`acc`"), "the banner is above the table"
    assert "regressed" in body, "the accepted metric is still marked regressed"
    assert fake_forge.github.reactions(GITHUB_REPO) == [("mlgate-bot", "eyes"), ("mlgate-bot", "rocket")]
    assert _writes(fake_forge) == [
        f"POST issues/comments/{_comment_ids(fake_forge)[-1]}/reactions",
        f"PATCH issues/comments/{_comment_ids(fake_forge)[0]}",
        f"POST statuses/{pr_sha}",
        f"POST issues/comments/{_comment_ids(fake_forge)[-1]}/reactions",
    ]


def test_accept_adds_a_success_check_run_naming_the_accepter_when_the_gate_failed_as_a_check_run(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    app = FakeForge.GITHUB_ACTIONS_TOKEN
    sha = setup_project(project, cli)
    fake_forge.github.pull(GITHUB_REPO, 5)["head"] = sha
    fake_forge.github.set_permission(GITHUB_REPO, "bob", "write")
    assert cli("run", env=github_env(fake_forge, tmp_path, sha, token=app)).code == 1
    project.checkout("main")
    result = _comment(cli, fake_forge, tmp_path, "/mlgate accept: known trade-off", token=app)
    assert result.code == 0, result.err
    checks = fake_forge.github.check_runs(GITHUB_REPO, sha)
    assert [(c["name"], c["conclusion"]) for c in checks] == [("mlgate", "failure"), ("mlgate", "success")]
    assert checks[0]["output"]["title"] == "fail: 1 regression (acc)"
    assert checks[1]["output"]["title"] == "accepted by @bob: 1 regression (acc)"
    assert "Accepted by @bob: known trade-off" in checks[1]["output"]["summary"]
    assert fake_forge.github.repos[GITHUB_REPO].statuses == [], "one kind of verdict: never a status beside"


def _comment_ids(fake: FakeForge) -> list[int]:
    return [int(c["id"]) for c in fake.github.comments(GITHUB_REPO, 5)]


def test_acceptance_holds_on_the_same_sha_and_not_after_a_push_when_the_pr_runs_again(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    assert _comment(cli, fake_forge, tmp_path, "/mlgate accept acc: noisy").code == 0
    project.checkout("feature")
    again = cli("run", env=github_env(fake_forge, tmp_path, pr_sha, run_id="400"))
    assert again.code == 0, "a later run on the accepted SHA keeps the acceptance"
    assert _last_status(fake_forge, pr_sha)[0] == "success"
    assert "Accepted by @bob: noisy" in _sticky(fake_forge)
    pushed = project.commit("worse", metrics_dot_json={"acc": 0.7})
    fake_forge.github.pull(GITHUB_REPO, 5)["head"] = pushed
    fresh = cli("run", env=github_env(fake_forge, tmp_path, pushed, run_id="401"))
    assert fresh.code == 1, "a new head commit is gated afresh"
    assert _last_status(fake_forge, pushed)[0] == "failure"
    assert "Accepted by" not in _sticky(fake_forge)


def test_accept_by_a_reader_changes_nothing_but_a_thumbs_down_when_the_author_lacks_write(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    before = _sticky(fake_forge)
    result = _comment(cli, fake_forge, tmp_path, "/mlgate accept: trust me", author="carol")
    assert result.code == 0
    assert fake_forge.github.reactions(GITHUB_REPO) == [("mlgate-bot", "-1")]
    assert [w.method for w in fake_forge.writes()] == ["POST"], "one reaction, nothing else"
    assert _sticky(fake_forge) == before
    assert _last_status(fake_forge, pr_sha)[0] == "failure"


def test_forged_acceptance_is_ignored_when_another_user_posts_bot_looking_data(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    from mlgate.acceptance import Acceptance, render_data

    forged = render_data([Acceptance(pr_sha, "bob", "forged", ("acc",), "2026-01-01T00:00:00Z")])
    fake_forge.github.add_comment(
        GITHUB_REPO,
        5,
        "mallory",
        f"<!-- mlgate:report id=default run=2099-01-01T00:00:00Z/9 -->\nx\n{forged}",
    )
    project.checkout("feature")
    result = cli("run", env=github_env(fake_forge, tmp_path, pr_sha, run_id="402"))
    assert result.code == 1
    assert _last_status(fake_forge, pr_sha)[0] == "failure"
    assert "forged" not in _sticky(fake_forge)


@pytest.mark.parametrize(
    ("body", "options"),
    [
        ("> /mlgate accept\n\nI agree", {}),
        ("```\n/mlgate accept\n```", {}),
        ("    /mlgate accept", {}),
        ("thanks! /mlgate accept", {}),
        ("/mlgate accept: edited later", {"action": "edited"}),
    ],
)
def test_comment_is_ignored_without_writes_when_it_is_no_new_command(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str, body: str, options: dict[str, str]
) -> None:
    result = _comment(cli, fake_forge, tmp_path, body, **options)
    assert result.code == 0, result.err
    assert fake_forge.log == [], "not even a read"
    assert _last_status(fake_forge, pr_sha)[0] == "failure"


def test_long_comment_is_accepted_with_its_reason_cut_when_it_has_10000_characters(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    body = "/mlgate accept: " + "because " * 1250
    assert len(body) > 10_000
    assert _comment(cli, fake_forge, tmp_path, body).code == 0
    assert _last_status(fake_forge, pr_sha)[0] == "success"
    banner = next(line for line in _sticky(fake_forge).splitlines() if "Accepted by @bob" in line)
    assert len(banner) < 500


def test_permission_403_falls_back_to_the_association_and_logs_it_when_the_token_cannot_read_it(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    fake_forge.github.repos[GITHUB_REPO].permission_api_forbidden = True
    outsider = _comment(cli, fake_forge, tmp_path, "/mlgate accept", author="dave", association="CONTRIBUTOR")
    assert outsider.code == 0
    assert "falling back to author_association CONTRIBUTOR (not trusted)" in outsider.err
    assert fake_forge.github.reactions(GITHUB_REPO) == [("mlgate-bot", "-1")]
    member = _comment(cli, fake_forge, tmp_path, "/mlgate accept", author="erin", association="MEMBER")
    assert "falling back to author_association MEMBER (trusted)" in member.err
    assert _last_status(fake_forge, pr_sha) == ("success", "accepted by @erin: 1 regression (acc)")


def test_explain_replies_with_the_numbers_when_a_maintainer_asks(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    result = _comment(cli, fake_forge, tmp_path, "/mlgate explain acc")
    assert result.code == 0, result.err
    [reply] = _replies(fake_forge)
    assert "base:      0.9" in reply
    assert "head:      0.8" in reply
    assert "verdict:   regressed" in reply
    assert [w.method for w in fake_forge.writes()] == ["POST", "POST", "POST"], "👀, the reply, 🚀"


@pytest.mark.parametrize(
    ("body", "author", "expected"),
    [
        ("/mlgate accept f1", "bob", "unknown metric `f1`"),
        ("/mlgate explain nope", "bob", "unknown metric `nope`"),
        ("/mlgate frobnicate", "bob", "unknown command `frobnicate`"),
        ("/mlgate accept: mine", "alice", "cannot accept their own"),
    ],
)
def test_command_fails_with_a_confused_reaction_and_one_reply_when_it_cannot_be_done(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str, body: str, author: str, expected: str
) -> None:
    result = _comment(cli, fake_forge, tmp_path, body, author=author)
    assert result.code == 0, result.err
    [reply] = _replies(fake_forge)
    assert expected in reply
    assert "\n" not in reply
    assert fake_forge.github.reactions(GITHUB_REPO) == [("mlgate-bot", "eyes"), ("mlgate-bot", "confused")]
    assert _last_status(fake_forge, pr_sha)[0] == "failure"


def test_the_pr_author_may_accept_their_own_regression_when_the_base_config_allows_self_accept(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    config = (project.root / ".mlgate.yml").read_text()
    project.commit("allow self-accept", **{".mlgate.yml": config + "chatops: {allow_self_accept: true}\n"})
    result = _comment(cli, fake_forge, tmp_path, "/mlgate accept: my own trade-off", author="alice")
    assert result.code == 0, result.err
    assert _last_status(fake_forge, pr_sha) == ("success", "accepted by @alice: 1 regression (acc)")
    assert "Accepted by @alice: my own trade-off" in _sticky(fake_forge)
    assert _replies(fake_forge) == []
    assert fake_forge.github.reactions(GITHUB_REPO) == [("mlgate-bot", "eyes"), ("mlgate-bot", "rocket")]


def test_accept_says_nothing_to_accept_when_the_pr_has_no_regression(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    sha = setup_project(project, cli, acc=0.95)
    fake_forge.github.pull(GITHUB_REPO, 5)["head"] = sha
    fake_forge.github.set_permission(GITHUB_REPO, "bob", "write")
    project.checkout("main")
    assert _comment(cli, fake_forge, tmp_path, "/mlgate accept").code == 0
    assert "nothing to accept" in _replies(fake_forge)[0]
    assert fake_forge.github.repos[GITHUB_REPO].statuses == []


def test_closed_pr_gets_a_confused_reaction_and_a_reply_when_a_command_comes(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    fake_forge.github.pull(GITHUB_REPO, 5)["state"] = "closed"
    assert _comment(cli, fake_forge, tmp_path, "/mlgate accept").code == 0
    assert "#5 is closed" in _replies(fake_forge)[0]
    assert ("mlgate-bot", "confused") in fake_forge.github.reactions(GITHUB_REPO)


def test_help_replies_with_the_commands_when_asked(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    assert _comment(cli, fake_forge, tmp_path, "/mlgate help").code == 0
    [reply] = _replies(fake_forge)
    assert all(f"/mlgate {word}" in reply for word in ("run", "explain", "accept", "help"))


def test_run_on_a_fork_pr_answers_with_the_two_stage_workflow_when_asked_to_rerun(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    fake_forge.github.pull(GITHUB_REPO, 5)["head_repo"] = "mallory/demo"
    assert _comment(cli, fake_forge, tmp_path, "/mlgate run").code == 0
    assert "two-stage `workflow_run`" in _replies(fake_forge)[0]
    assert [s for s in fake_forge.github.repos[GITHUB_REPO].statuses if s["sha"] == pr_sha][1:] == []


def test_run_regates_the_pr_head_and_sets_its_status_when_a_maintainer_asks(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    assert _comment(cli, fake_forge, tmp_path, "/mlgate run").code == 0
    assert len(fake_forge.github.repos[GITHUB_REPO].statuses) == 2
    assert _last_status(fake_forge, pr_sha)[0] == "failure"
    assert ("mlgate-bot", "rocket") in fake_forge.github.reactions(GITHUB_REPO)
    assert len(_bot_comments(fake_forge)) == 1, "the sticky comment was updated, no reply"


def test_racing_accepts_leave_one_banner_when_two_maintainers_accept_at_once(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    fake_forge.github.set_permission(GITHUB_REPO, "erin", "admin")
    envs = [
        comment_env(fake_forge, tmp_path, "/mlgate accept: one", author="bob", run_id="501"),
        comment_env(fake_forge, tmp_path, "/mlgate accept: two", author="erin", run_id="502"),
    ]
    results: list[CliResult] = []
    errors = run_concurrently([_runner(cli, env, results) for env in envs])
    assert errors == []
    assert [r.code for r in results] == [0, 0]
    assert _sticky(fake_forge).count("Accepted by @") == 1
    assert _last_status(fake_forge, pr_sha)[0] == "success"


def _runner(cli: CliRunner, env: dict[str, str], results: list[CliResult]) -> Callable[[], None]:
    return lambda: results.append(cli("run", env=env))


# ---- GitLab: accept notes are read by the MR pipeline ------------------------------------------------------


def _gitlab_run(project: GitProject, cli: CliRunner, fake: FakeForge, sha: str) -> CliResult:
    from tests.fakeforge.ci_env import gitlab_env

    project.checkout("feature")
    return cli("run", env=gitlab_env(fake, sha))


@pytest.fixture
def mr_sha(project: GitProject, cli: CliRunner, fake_forge: FakeForge) -> str:
    """MR !3 by alice with a regression, its head pushed in 2020; bob is a Developer, carol a Reporter."""
    sha = setup_project(project, cli)
    fake_forge.gitlab.push_mr(GITLAB_PROJECT, 3, sha, at="2020-01-01T00:00:00.000Z")
    fake_forge.gitlab.set_member(GITLAB_PROJECT, "bob", 30)
    fake_forge.gitlab.set_member(GITLAB_PROJECT, "carol", 20)
    return sha


def _gitlab_status(fake: FakeForge, sha: str) -> tuple[str, str]:
    mine = [s for s in fake.gitlab.project(GITLAB_PROJECT).statuses if s["sha"] == sha]
    return mine[-1]["status"], mine[-1]["description"]


def test_gitlab_pipeline_applies_a_developer_accept_note_when_written_after_the_latest_push(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, mr_sha: str
) -> None:
    fake_forge.gitlab.add_note(GITLAB_PROJECT, 3, "bob", "/mlgate accept: expected after the refactor")
    result = _gitlab_run(project, cli, fake_forge, mr_sha)
    assert result.code == 0, result.err
    assert _gitlab_status(fake_forge, mr_sha) == ("success", "accepted by @bob: 1 regression (acc)")
    sticky = [n for n in fake_forge.gitlab.notes(GITLAB_PROJECT, 3) if n["username"] == "mlgate-bot"]
    assert len(sticky) == 1
    assert "Accepted by @bob: expected after the refactor" in str(sticky[0]["body"])


@pytest.mark.parametrize(
    ("author", "when"),
    [("carol", "after"), ("alice", "after"), ("bob", "before")],
    ids=["reporter", "mr-author", "before-the-push"],
)
def test_gitlab_pipeline_ignores_an_accept_note_when_it_may_not_count(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, mr_sha: str, author: str, when: str
) -> None:
    fake_forge.gitlab.set_member(GITLAB_PROJECT, "alice", 40)
    fake_forge.gitlab.add_note(GITLAB_PROJECT, 3, author, "/mlgate accept: please")
    if when == "before":
        fake_forge.gitlab.push_mr(GITLAB_PROJECT, 3, mr_sha, at="2999-01-01T00:00:00.000Z")
    result = _gitlab_run(project, cli, fake_forge, mr_sha)
    assert result.code == 1
    assert _gitlab_status(fake_forge, mr_sha)[0] == "failed"


# ---- --dry-run: reads may reach the API, every write lands in files ----------------------------------------


@pytest.mark.parametrize(
    ("body", "answer"),
    [("/mlgate accept: fine", "comment-5.md"), ("/mlgate explain acc", "reply-5-1.md")],
)
def test_dry_run_writes_every_answer_to_files_and_posts_nothing_when_a_command_comes(
    project: GitProject,
    cli: CliRunner,
    fake_forge: FakeForge,
    tmp_path: Path,
    pr_sha: str,
    body: str,
    answer: str,
) -> None:
    result = cli("run", "--dry-run", env=comment_env(fake_forge, tmp_path, body))
    assert result.code == 0, result.err
    assert fake_forge.writes() == []
    assert fake_forge.log, "the PR, the permission and the comments are still read"
    folder = project.root / "mlgate-report" / "dry-run"
    assert (folder / answer).is_file()
    assert [
        line.split('"reaction": ')[1] for line in (folder / "reactions.jsonl").read_text().splitlines()
    ] == [
        '"eyes"}',
        '"rocket"}',
    ]
    assert f"dry run: {folder / answer}" in result.out
    assert _last_status(fake_forge, pr_sha)[0] == "failure", "the real status is untouched"


def test_dry_run_without_a_token_answers_help_from_files_when_no_api_can_be_read(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pr_sha: str
) -> None:
    env = comment_env(fake_forge, tmp_path, "/mlgate help")
    del env["GITHUB_TOKEN"]
    result = cli("run", "--dry-run", env=env)
    assert result.code == 0, result.err
    assert "no token to read the permission of @bob: falling back to author_association MEMBER" in result.err
    assert fake_forge.log == []
    assert "/mlgate accept" in (project.root / "mlgate-report" / "dry-run" / "reply-5-1.md").read_text()
