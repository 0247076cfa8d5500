"""GitRepo against real git: fetching a PR head into a shallow clone, temporary worktrees, and the one
`git cat-file --batch` its reads share."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
from pathlib import Path

import pytest

from mlgate import gitrepo
from mlgate.errors import GitError
from mlgate.gitrepo import GitRepo, ObjectReader, read_objects
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
    tree = GitTree(GitRepo(project.root), sha)
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
            "HEAD",
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


def _batch_processes() -> list[int]:
    """The `git cat-file --batch` processes this test process started, still running or not yet reaped."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc")
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text, cmdline = stat.read_text(), (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # it ended while we looked
        if int(text[text.rindex(")") + 2 :].split()[1]) == os.getpid() and cmdline.startswith(
            b"git\0cat-file"
        ):
            found.append(int(stat.parent.name))
    return found


def test_reads_of_one_repository_share_one_git_process_until_the_repository_is_closed(
    project: GitProject,
) -> None:
    first = project.commit("one", a_dot_txt="a")
    second = project.commit("two", a_dot_txt="b")
    with GitRepo(project.root) as repo:
        assert _batch_processes() == [], "nothing starts before the first read"
        [one] = repo.read_objects(f"{first}:a.txt")
        started = _batch_processes()
        two, missing = repo.read_objects(f"{second}:a.txt", "HEAD:nope")
        assert _batch_processes() == started
        assert len(started) == 1
        assert (one and one.content, two and two.content, missing) == (b"a", b"b", None)
    assert _batch_processes() == []
    assert repo.read_objects(f"{first}:a.txt")[0] is not None, "a closed repository reads again"
    repo.close()
    assert _batch_processes() == []


def test_the_batch_process_ends_when_its_reader_is_garbage_collected(project: GitProject) -> None:
    project.commit("one", a_dot_txt="a")
    reader = ObjectReader(project.root)
    reader.read(["HEAD:a.txt"])
    assert len(_batch_processes()) == 1
    del reader
    gc.collect()
    assert _batch_processes() == []


def test_a_round_interrupted_half_way_ends_the_process_and_the_next_read_answers_in_step(
    project: GitProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.commit("one", a_dot_txt="a", b_dot_txt="b")
    reader = ObjectReader(project.root)
    answer = gitrepo._batch_answer

    def interrupted(stdin, stdout, name, keep_up_to):  # type: ignore[no-untyped-def]
        stdin.write(name.encode() + b"\n")
        stdin.flush()
        raise KeyboardInterrupt  # the answer is left unread in the pipe

    monkeypatch.setattr(gitrepo, "_batch_answer", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reader.read(["HEAD:a.txt"])
    assert _batch_processes() == []
    monkeypatch.setattr(gitrepo, "_batch_answer", answer)
    found = reader.read(["HEAD:b.txt"])
    assert found[0] is not None
    assert found[0].content == b"b"
    reader.close()


def test_a_batch_process_that_dies_is_a_git_error_and_the_next_read_starts_another(
    project: GitProject,
) -> None:
    project.commit("one", a_dot_txt="a")
    reader = ObjectReader(project.root)
    reader.read(["HEAD:a.txt"])
    [pid] = _batch_processes()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(GitError, match="exit -9"):
        reader.read(["HEAD:a.txt"])
    assert _batch_processes() == []
    assert reader.read(["HEAD:a.txt"])[0] is not None
    reader.close()


def test_a_name_with_a_line_break_is_refused_before_git_is_asked_anything(project: GitProject) -> None:
    project.commit("one", a_dot_txt="a")
    with GitRepo(project.root) as repo:
        with pytest.raises(ValueError, match="one line"):
            repo.read_objects("HEAD:a.txt", "HEAD\nHEAD")
        assert _batch_processes() == []
        assert repo.read_objects("HEAD:a.txt")[0] is not None


def test_merge_base_answers_as_git_does_when_the_branch_is_at_the_change_or_behind_it(
    project: GitProject,
) -> None:
    base = project.commit("one")
    project.branch("feature")
    with GitRepo(project.root) as repo:
        assert repo.merge_base(base, "main") == base == project.git("merge-base", base, "main")
        ahead = project.commit("two")
        assert repo.merge_base(ahead, "main") == base == project.git("merge-base", ahead, "main")
        assert repo.merge_base("HEAD", "main") == base
