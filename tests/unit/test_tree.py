"""File trees: the work tree refuses paths that leave it; a commit's tree reads committed blobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlgate.errors import MetricsError
from mlgate.gitrepo import GitRepo
from mlgate.tree import GitTree, WorkTree
from tests.gitproject import GitProject


def test_symlink_out_of_the_work_tree_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"token": "hunter2"}')
    root = tmp_path / "repo"
    root.mkdir()
    os.symlink(secret, root / "metrics.json")
    tree = WorkTree(root)
    assert not tree.exists("metrics.json")
    assert tree.glob("*.json") == []
    with pytest.raises(MetricsError, match="outside the repository"):
        tree.read_bytes("metrics.json")
    with pytest.raises(MetricsError, match="outside the repository"):
        tree.read_bytes("../secret.json")


def test_missing_file_says_no_such_file(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="no such file"):
        WorkTree(tmp_path).size("metrics.json")
    with pytest.raises(MetricsError, match="no such file"):
        WorkTree(tmp_path).read_bytes("metrics.json")


def test_git_tree_reads_committed_content_not_the_work_tree(project: GitProject) -> None:
    sha = project.commit("one", **{"eval__m_dot_json": '{"a": 1}'})
    project.write("eval/m.json", '{"a": 2}')
    tree = GitTree(GitRepo(project.root), sha)
    assert tree.glob("eval/*.json") == ["eval/m.json"]
    assert tree.read_bytes("eval/m.json") == b'{"a": 1}'
    assert tree.size("eval/m.json") == 8
    assert not tree.exists("other.json")
    with pytest.raises(MetricsError, match="no such file in that commit"):
        tree.read_bytes("other.json")


def test_preloaded_git_tree_answers_like_the_listing_when_paths_are_plain_or_not(
    project: GitProject,
) -> None:
    sha = project.commit("one", **{"eval__m_dot_json": '{"a": 1}', "p_dot_yaml": "lr: 1\n"})
    project.write("p.yaml", "lr: 2\n")
    tree = GitTree(GitRepo(project.root), sha)
    tree.preload(["eval/m.json", "p.yaml", "gone.json", "eval", "./p.yaml", "eval/*.json"])
    assert tree.read_bytes("p.yaml") == b"lr: 1\n"
    assert tree.size("eval/m.json") == 8
    assert tree.glob("eval/m.json") == ["eval/m.json"]
    assert not tree.exists("eval"), "a folder is not a file"
    assert not tree.exists("./p.yaml"), "a path is named as the listing names it"
    assert tree.glob("eval/*.json") == ["eval/m.json"]
    with pytest.raises(MetricsError, match="no such file in that commit"):
        tree.read_bytes("gone.json")


def test_git_tree_reads_a_file_over_the_preload_limit_whole_when_asked_for_it(project: GitProject) -> None:
    big = "x" * (3 << 19) + "end"  # 1.5 MiB: preload keeps its size, not its content
    sha = project.commit("one", big_dot_txt=big, eval__m_dot_json='{"a": 1}')
    with GitRepo(project.root) as repo:
        tree = GitTree(repo, sha)
        tree.preload(["big.txt"])
        assert tree.size("big.txt") == len(big)
        assert tree.read_bytes("big.txt") == big.encode()
        assert tree.glob("eval/*.json") == ["eval/m.json"]
        assert tree.read_bytes("eval/m.json") == b'{"a": 1}', "a listed file is read in the batch too"
