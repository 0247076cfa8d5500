"""`mlgate comment create|update FILE` (the `cml comment` drop-in): local images uploaded and relinked;
`create` adds a comment each time, `update` keeps one per watermark."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import CliRunner
from tests.fakeforge import FakeForge
from tests.fakeforge.ci_env import github_env, gitlab_env
from tests.fakeforge.drive import GITHUB_REPO, GITLAB_PROJECT
from tests.gitproject import GitProject

pytest_plugins = ["tests.fakeforge.fixtures"]

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _report(project: GitProject, text: str = "# Results\n\n![loss](plots/loss.png)\n") -> Path:
    project.write("plots/loss.png", "")
    (project.root / "plots" / "loss.png").write_bytes(PNG)
    return project.write("report.md", text)


def test_update_upserts_one_comment_with_the_image_relinked_when_run_twice(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    _report(project)
    env = github_env(fake_forge, tmp_path, "ab" * 20)
    for _ in range(2):
        result = cli("comment", "update", "report.md", "--watermark-title", "cml report", env=env)
        assert result.code == 0, result.err
    comments = fake_forge.github.comments(GITHUB_REPO, 5)
    assert len(comments) == 1
    body = str(comments[0]["body"])
    assert body.startswith("<!-- mlgate:report id=cml-report run=")
    link = re.search(r"!\[loss\]\((\S+)\)", body)
    assert link is not None
    assert "/octo/demo/blob/mlgate-assets/" in link[1]
    assert link[1].endswith(".png?raw=true")
    assets = fake_forge.github.tree_of_branch(GITHUB_REPO, "mlgate-assets")
    assert PNG in assets.values()
    assert f"#issuecomment-{comments[0]['id']}" in result.out


def test_create_adds_a_new_comment_each_time_when_targeting_an_issue(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    project.write("note.md", "plain text\n")
    env = github_env(fake_forge, tmp_path, "ab" * 20)
    for _ in range(2):
        assert cli("comment", "create", "note.md", "--target", "issue#12", env=env).code == 0
    assert len(fake_forge.github.comments(GITHUB_REPO, 12)) == 2
    assert fake_forge.github.comments(GITHUB_REPO, 5) == []


def test_update_uploads_through_the_gitlab_uploads_api_when_run_in_an_mr_pipeline(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge
) -> None:
    _report(project)
    result = cli("comment", "update", "report.md", env=gitlab_env(fake_forge, "ab" * 20))
    assert result.code == 0, result.err
    (note,) = fake_forge.gitlab.notes(GITLAB_PROJECT, 3)
    assert re.search(r"!\[loss\]\(/uploads/[0-9a-f]+/[0-9a-f]{16}\.png\)", str(note["body"]))
    assert fake_forge.gitlab.project(GITLAB_PROJECT).uploads[0]["data"] == PNG


def test_comment_is_exit_3_with_the_token_hint_when_there_is_no_token(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    _report(project)
    result = cli(
        "comment", "update", "report.md", env=github_env(fake_forge, tmp_path, "ab" * 20, token=None)
    )
    assert result.code == 3
    assert "pull-requests: write" in result.err


def test_images_outside_the_file_folder_are_never_uploaded_when_linked_with_dotdot(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    (tmp_path / "secret.png").write_bytes(PNG)
    _report(project, "![x](../secret.png)\n")
    result = cli("comment", "update", "report.md", env=github_env(fake_forge, tmp_path, "ab" * 20))
    assert result.code == 0, result.err
    assert "](../secret.png)" in str(fake_forge.github.comments(GITHUB_REPO, 5)[0]["body"])
    assert [w for w in fake_forge.writes() if "contents" in w.path] == []


MARKER = "<!-- mlgate:report id=cml-report run=2099-01-01T00:00:00Z -->\n"


def test_update_edits_one_commit_comment_and_spares_others_when_run_twice_with_target_commit(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    sha = "ab" * 20
    for i in range(105):  # our comment lands on the second page of 100
        fake_forge.github.add_commit_comment(GITHUB_REPO, sha, "alice", f"comment {i}")
    alice = fake_forge.github.add_commit_comment(GITHUB_REPO, sha, "alice", MARKER + "a copied marker")
    for text in ("first", "second"):
        project.write("report.md", f"# {text}\n")
        args = ("comment", "update", "report.md", "--target", "commit", "--watermark-title", "cml report")
        result = cli(*args, env=github_env(fake_forge, tmp_path, sha))
        assert result.code == 0, result.err
    ours = [c for c in fake_forge.github.commit_comments(GITHUB_REPO, sha) if c["login"] == "mlgate-bot"]
    assert len(ours) == 1
    assert str(ours[0]["body"]).endswith("# second\n")
    assert fake_forge.github.repos[GITHUB_REPO].commit_comments[alice]["body"] == MARKER + "a copied marker"
    assert [w.method for w in fake_forge.writes()] == ["POST", "PATCH"]
    assert fake_forge.github.comments(GITHUB_REPO, 5) == [], "nothing on the PR"
    assert f"/commit/{sha}#commitcomment-{ours[0]['id']}" in result.out


def test_default_target_is_the_head_commit_when_a_push_has_no_pr(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    project.write("report.md", "hello\n")
    env = github_env(fake_forge, tmp_path, "cd" * 20, event="push", number=None)
    result = cli("comment", "create", "report.md", env=env)
    assert result.code == 0, result.err
    (comment,) = fake_forge.github.commit_comments(GITHUB_REPO, "cd" * 20)
    assert str(comment["body"]).endswith("hello\n")


def test_update_keeps_one_issue_note_when_run_twice_with_target_issue_on_gitlab(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge
) -> None:
    for text in ("first", "second"):
        project.write("report.md", f"{text}\n/close\n")
        result = cli(
            "comment", "update", "report.md", "--target", "issue#4", env=gitlab_env(fake_forge, "ab" * 20)
        )
        assert result.code == 0, result.err
    (note,) = fake_forge.gitlab.issue_notes(GITLAB_PROJECT, 4)
    assert str(note["body"]).endswith("second\n\\/close\n"), "no quick action in an issue note either"
    assert fake_forge.gitlab.notes(GITLAB_PROJECT, 3) == []
    assert [w.method for w in fake_forge.writes()] == ["POST", "PUT"]
    assert f"/group/demo/-/issues/4#note_{note['id']}" in result.out


def test_update_edits_one_commit_discussion_when_run_twice_with_target_commit_rev_on_gitlab(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge
) -> None:
    head = project.commit("work", **{"a_dot_txt": "a\n"})
    other = fake_forge.gitlab.add_commit_note(
        GITLAB_PROJECT, head, "alice", "<!-- mlgate:report id=comment run=2099-01-01T00:00:00Z -->"
    )
    for text in ("first", "second"):
        project.write("report.md", f"{text}\n")
        result = cli(
            "comment", "update", "report.md", "--target", "commit/HEAD", env=gitlab_env(fake_forge, "ab" * 20)
        )
        assert result.code == 0, result.err
    notes = fake_forge.gitlab.commit_notes(GITLAB_PROJECT, head)
    assert [(n["username"], n["id"] == other) for n in notes] == [("alice", True), ("mlgate-bot", False)]
    assert str(notes[1]["body"]).endswith("second\n")
    assert [w.method for w in fake_forge.writes()] == ["POST", "PUT"]


def test_comment_is_exit_2_when_the_target_is_not_understood(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    project.write("report.md", "hello\n")
    result = cli(
        "comment",
        "create",
        "report.md",
        "--target",
        "issue12",
        env=github_env(fake_forge, tmp_path, "ab" * 20),
    )
    assert result.code == 2
    assert "--target issue12: must be auto, pr, pr/N, issue/N, commit or commit/REV" in result.err
    assert fake_forge.writes() == []
