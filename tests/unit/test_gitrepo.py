"""GitRepo against real git: fetching a PR head into a shallow clone, and temporary worktrees."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlgate.gitrepo import GitRepo
from tests.gitproject import GitProject


def _clone_without(project: GitProject, tmp_path: Path) -> tuple[GitRepo, str]:
    """A shallow clone of an orphan `main` on an origin whose refs/pull/5/head is one commit past the PR
    head (not advertised); protocol v0, so that the origin refuses a want of that head's SHA."""
    head = project.commit("pr head")
    project.commit("pushed after")
    project.git("checkout", "-q", "--orphan", "other")
    project.commit("unrelated main")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    project.git("push", "-q", str(origin), "main:refs/pull/5/head", "other:refs/heads/main")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)], check=True)
    subprocess.run(["git", "config", "protocol.version", "0"], cwd=clone, check=True)
    return GitRepo(clone), head


def test_fetch_commit_falls_back_to_the_ref_when_the_origin_refuses_the_sha(
    project: GitProject, tmp_path: Path
) -> None:
    repo, head = _clone_without(project, tmp_path)
    assert not repo.has_commit(head)
    assert repo.fetch_commit(head, "refs/pull/5/head")
    assert repo.has_commit(head)
    assert repo.try_git("rev-parse", "--verify", "refs/remotes/origin/pull/5/head") is not None


def test_fetch_commit_is_false_when_neither_the_sha_nor_the_ref_brings_it(
    project: GitProject, tmp_path: Path
) -> None:
    repo, head = _clone_without(project, tmp_path)
    assert not repo.fetch_commit(head, "refs/pull/6/head")


def test_temporary_worktree_is_removed_when_the_work_inside_it_is_interrupted(project: GitProject) -> None:
    sha = project.commit("one", a_dot_txt="a")
    repo = GitRepo(project.root)
    seen: list[Path] = []

    def interrupted() -> None:
        with repo.temporary_worktree(sha, "mlgate-test-") as tree:
            seen.append(tree.root)
            assert (tree.root / "a.txt").read_text() == "a"
            assert tree.head() == sha
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert seen
    assert not seen[0].exists()
    assert project.git("worktree", "list").count("\n") == 0, "only the main work tree is left"
