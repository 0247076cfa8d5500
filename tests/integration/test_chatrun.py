"""`/mlgate run` from a PR comment trains the PR head: a shallow clone of main (as the `issue_comment` job
has) fetches the head from a real origin, trains it in a temporary worktree with a real training script,
gates it against main's baseline from git notes and publishes through real PyGithub to the fake GitHub."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CliResult, CliRunner
from tests.fakeforge import FakeForge
from tests.fakeforge.ci_env import comment_env
from tests.fakeforge.drive import GITHUB_REPO
from tests.gitproject import GitProject

pytest_plugins = ["tests.fakeforge.fixtures"]

TRAIN = """\
import json, os, pathlib
quality = pathlib.Path("quality.txt").read_text().strip()
with open(os.environ["MARK"], "a") as mark:
    mark.write(f"{os.getcwd()} token={os.environ.get('GITHUB_TOKEN')}\\n")
if quality == "crash":
    raise SystemExit("training blew up")
pathlib.Path("metrics.json").write_text(json.dumps({"acc": float(quality)}))
"""


@dataclass
class PullRequest:
    """PR #5 of octo/demo, pushed to `origin` as refs/pull/5/head; `clone` is the comment job's checkout."""

    sha: str
    clone: Path
    marks: Path

    def trained_in(self) -> list[str]:
        """The folders the training ran in, one line per run (main's baseline run first)."""
        return self.marks.read_text().splitlines()


def _push_pr(project: GitProject, cli: CliRunner, tmp_path: Path, quality: str) -> PullRequest:
    """main trains acc 0.9 (its baseline pushed to origin's git notes); the PR head's training writes
    `quality`; its committed files hold no metrics at all."""
    origin, marks = tmp_path / "origin.git", tmp_path / "marks.txt"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    project.git("remote", "add", "origin", str(origin))
    config = (
        f"train: {{command: '{sys.executable} train.py', env: {{MARK: '{marks}'}}}}\n"
        "metrics: [metrics.json]\ngates: [{metric: acc, abs: 0.01}]\nbaseline: {stores: [git-notes]}\n"
    )
    files = {".mlgate.yml": config, "train_dot_py": TRAIN, "quality_dot_txt": "0.9"}
    project.write(".gitignore", "metrics.json\n.mlgate/\nmlgate-report/\n")
    project.commit("model", **files)
    project.git("push", "-q", "origin", "main")
    assert cli("run", env={}).code == 0, "main's baseline"
    project.branch("feature")
    sha = project.commit("better", quality_dot_txt=quality)
    project.git("push", "-q", "origin", "feature:refs/pull/5/head")
    clone = tmp_path / "clone"
    url = f"file://{origin}"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "main", url, str(clone)], check=True)
    return PullRequest(sha, clone, marks)


@pytest.fixture
def pull(project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path) -> PullRequest:
    pr = _push_pr(project, cli, tmp_path, "0.95")
    fake_forge.github.pull(GITHUB_REPO, 5)["head"] = pr.sha
    fake_forge.github.set_permission(GITHUB_REPO, "bob", "write")
    return pr


def _comment(cli: CliRunner, fake: FakeForge, tmp_path: Path, pr: PullRequest, *argv: str) -> CliResult:
    return cli("run", *argv, cwd=pr.clone, env=comment_env(fake, tmp_path, "/mlgate run"))


def _bot_bodies(fake: FakeForge) -> list[str]:
    return [str(c["body"]) for c in fake.github.comments(GITHUB_REPO, 5) if c["login"] == "mlgate-bot"]


def _statuses(fake: FakeForge, sha: str) -> list[tuple[str, str]]:
    return [
        (s["state"], s["description"]) for s in fake.github.repos[GITHUB_REPO].statuses if s["sha"] == sha
    ]


def _worktrees(clone: Path) -> list[str]:
    out = subprocess.run(
        ["git", "worktree", "list", "--porcelain"], cwd=clone, capture_output=True, text=True
    )
    return [line for line in out.stdout.splitlines() if line.startswith("worktree ")]


def test_run_trains_the_pr_head_and_posts_its_value_when_the_pr_is_from_the_same_repository(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pull: PullRequest
) -> None:
    result = _comment(cli, fake_forge, tmp_path, pull)
    assert result.code == 0, result.err
    [sticky] = _bot_bodies(fake_forge)
    assert "0.95" in sticky, "the value the training wrote at the head"
    assert _statuses(fake_forge, pull.sha) == [("success", "pass: 1 gated metric within tolerance")]
    assert fake_forge.github.reactions(GITHUB_REPO) == [("mlgate-bot", "eyes"), ("mlgate-bot", "rocket")]
    folder, token = pull.trained_in()[-1].split(" token=")
    assert "mlgate-pr5-" in folder
    assert token == "None", "the forge token never reaches the training"
    assert not Path(folder).exists(), "the temporary worktree is removed"
    assert len(_worktrees(pull.clone)) == 1
    assert (pull.clone / "mlgate-report" / "report.md").is_file(), "the report stays in the job's checkout"
    comment_id = fake_forge.github.comments(GITHUB_REPO, 5)[0]["id"]
    assert [f"{w.method} {w.path.split('/', 6)[-1]}" for w in fake_forge.writes()] == [
        f"POST issues/comments/{comment_id}/reactions",
        "POST issues/5/comments",
        f"POST statuses/{pull.sha}",
        f"POST issues/comments/{comment_id}/reactions",
    ], "four writes: 👀, the sticky comment, the status, 🚀"


def test_run_crash_publishes_the_failure_and_exits_3_when_the_training_fails_at_the_head(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    pr = _push_pr(project, cli, tmp_path, "crash")
    fake_forge.github.pull(GITHUB_REPO, 5)["head"] = pr.sha
    fake_forge.github.set_permission(GITHUB_REPO, "bob", "write")
    result = _comment(cli, fake_forge, tmp_path, pr)
    assert result.code == 3, result.err
    assert "mlgate: error: train.command: training exited with code 1" in result.err
    assert _statuses(fake_forge, pr.sha) == [("failure", "training failed: see the report")]
    assert fake_forge.github.reactions(GITHUB_REPO) == [("mlgate-bot", "eyes"), ("mlgate-bot", "confused")]
    sticky, reply = _bot_bodies(fake_forge)
    assert "training blew up" in sticky, "the report has the log tail"
    assert "training exited with code 1" in reply
    assert "\n" not in reply
    assert len(_worktrees(pr.clone)) == 1
    assert not Path(pr.trained_in()[-1].split(" token=")[0]).exists()


def test_run_on_a_fork_pr_checks_out_and_trains_nothing_when_train_command_is_set(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pull: PullRequest
) -> None:
    fake_forge.github.pull(GITHUB_REPO, 5)["head_repo"] = "mallory/demo"
    result = _comment(cli, fake_forge, tmp_path, pull)
    assert result.code == 0, result.err
    [reply] = _bot_bodies(fake_forge)
    assert "two-stage `workflow_run`" in reply
    assert len(pull.trained_in()) == 1, "only main's baseline run ever trained"
    fetched = subprocess.run(["git", "cat-file", "-e", f"{pull.sha}^{{commit}}"], cwd=pull.clone, check=False)
    assert fetched.returncode != 0, "the fork's head was not even fetched"
    assert _statuses(fake_forge, pull.sha) == []


def test_run_dry_run_trains_and_writes_files_without_a_forge_write_when_asked_with_dry_run(
    cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, pull: PullRequest
) -> None:
    result = _comment(cli, fake_forge, tmp_path, pull, "--dry-run")
    assert result.code == 0, result.err
    assert fake_forge.writes() == []
    folder = pull.clone / "mlgate-report" / "dry-run"
    assert "0.95" in (folder / "comment-5.md").read_text()
    assert '"state": "success"' in (folder / "statuses.jsonl").read_text()
    assert ['"eyes"' in line for line in (folder / "reactions.jsonl").read_text().splitlines()] == [
        True,
        False,
    ]
    assert f"dry run: {folder / 'reactions.jsonl'}" in result.out
