"""GitRepo against real git: fetching a PR head into a shallow clone, and temporary worktrees."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlgate.errors import GitError
from mlgate.gitrepo import GitRepo, read_objects
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


def test_read_objects_answers_each_name_in_order_with_none_where_git_has_nothing(
    project: GitProject,
) -> None:
    first = project.commit("one", a_dot_txt="a")
    second = project.commit("two", big_dot_txt="x" * 1000, sub__b_dot_txt="b")
    names = [f"{second}:a.txt", f"{second}:nope.txt", f"{second}:sub", "HEAD:big.txt", second]
    blob, missing, tree, big, commit = read_objects(project.root, names, keep_up_to=500)
    assert blob is not None
    assert (blob.type, blob.size, blob.content, blob.parents) == ("blob", 1, b"a", [])
    assert missing is None
    assert tree is not None
    assert tree.type == "tree"
    assert big is not None
    assert (big.size, big.content) == (1000, None), "content over keep_up_to is skipped, the size kept"
    assert commit is not None
    assert (commit.sha, commit.parents) == (second, [first])


def test_read_objects_refuses_a_name_it_cannot_ask_for_on_one_line(project: GitProject) -> None:
    project.commit("one", a_dot_txt="a")
    with pytest.raises(ValueError, match="one line"):
        read_objects(project.root, ["HEAD:a.txt", "HEAD\nHEAD"])


def test_a_file_whose_name_has_a_line_break_is_read_through_the_listing(project: GitProject) -> None:
    from mlgate.tree import GitTree

    project.write("metrics.json", {"acc": 0.9})
    (project.root / "new\nline.json").write_text('{"acc": 0.5}')
    project.git("add", "-A")
    sha = project.commit("odd name")
    tree = GitTree(project.root, sha)
    tree.preload(["new\nline.json", "metrics.json"])
    assert tree.exists("new\nline.json")
    assert tree.read_bytes("new\nline.json") == b'{"acc": 0.5}'
    assert tree.read_bytes("metrics.json") == b'{"acc": 0.9}'


def test_read_objects_outside_a_repository_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not a git repository"):
        read_objects(tmp_path, ["HEAD"])


def test_ancestors_note_the_dates_commit_date_gives(project: GitProject) -> None:
    first = project.commit("one")
    second = project.commit("two")
    repo = GitRepo(project.root)
    assert repo.ancestors(second, 5) == [second, first]
    assert repo.commit_date(first) == project.git("show", "-s", "--format=%cI", first)


def test_discover_notes_the_head_it_finds_when_asked_from_a_subdirectory_or_a_worktree(
    project: GitProject, tmp_path: Path
) -> None:
    sha = project.commit("one", sub__a_dot_txt="a")
    project.git("worktree", "add", "-q", "-b", "other", str(tmp_path / "wt"))
    for start, top in ((project.root / "sub", project.root), (tmp_path / "wt", tmp_path / "wt")):
        repo = GitRepo.discover(start, note_head=True)
        assert repo == GitRepo.discover(start)
        assert repo.root == top.resolve()
        assert repo.head() == sha == GitRepo.discover(start).head()


def test_discover_noting_head_fails_like_head_when_the_repository_has_no_commit(
    project: GitProject,
) -> None:
    for repo in (GitRepo.discover(project.root, note_head=True), GitRepo.discover(project.root)):
        assert repo.root == project.root.resolve()
        with pytest.raises(GitError, match="unknown revision") as caught:
            repo.head()
        assert (caught.value.where, caught.value.hint) == (
            "--base HEAD",
            "check the name with `git log --oneline --all`",
        )


def test_discover_outside_a_work_tree_is_not_a_git_repository_with_or_without_noting_head(
    project: GitProject, tmp_path: Path
) -> None:
    project.commit("one")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    (tmp_path / "plain").mkdir()
    for start in (bare, project.root / ".git", tmp_path / "plain"):
        for note_head in (False, True):
            with pytest.raises(GitError, match="not a git repository") as caught:
                GitRepo.discover(start, note_head=note_head)
            assert caught.value.where == str(start)
