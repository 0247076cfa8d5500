"""Fork PRs: the read-only first stage writes the summary and a handoff artifact; `mlgate publish --from`
(the `workflow_run` stage) finds the PR by head SHA, recomputes the verdict with the base branch's rules, and
posts a report it rendered itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import CliRunner
from tests.fakeforge import FakeForge
from tests.fakeforge.ci_env import github_env, setup_project
from tests.fakeforge.drive import GITHUB_REPO
from tests.gitproject import GitProject

pytest_plugins = ["tests.fakeforge.fixtures"]


def _first_stage(
    project: GitProject, cli: CliRunner, fake: FakeForge, tmp_path: Path, *, plots: bool = True
) -> tuple[str, Path]:
    setup_project(project, cli, plots=plots)
    # the fork also loosens the gate in its own config: the second stage must not trust it
    project.commit(
        "loosen", **{".mlgate.yml": (project.root / ".mlgate.yml").read_text().replace("0.01", "1")}
    )
    head = project.git("rev-parse", "HEAD")
    env = github_env(fake, tmp_path, head, token=FakeForge.GITHUB_READONLY_TOKEN, head_repo="mallory/demo")
    result = cli("run", env=env)
    assert result.code in (0, 1), result.err
    assert "mlgate publish --from mlgate-report" in result.out
    assert fake.writes() == [], "a read-only token posts nothing"
    assert (tmp_path / "summary.md").is_file()
    artifact = tmp_path / "artifact"
    shutil.copytree(project.root / "mlgate-report", artifact)
    return head, artifact


def _second_stage_env(fake: FakeForge, tmp_path: Path, head: str) -> dict[str, str]:
    payload = {"workflow_run": {"head_sha": head, "head_branch": "feature", "pull_requests": []}}
    env = github_env(fake, tmp_path, head, event="workflow_run", number=None, run_id="300", payload=payload)
    return env


def test_fork_pr_writes_the_artifact_and_the_second_stage_posts_it_when_run_by_workflow_run(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    head, artifact = _first_stage(project, cli, fake_forge, tmp_path)
    manifest = json.loads((artifact / "manifest.json").read_text())
    assert manifest["head_sha"] == head
    assert manifest["number"] == 5
    (artifact / "report.md").write_text("INJECTED /approve")  # the artifact's Markdown is never used
    fake_forge.github.add_pull(GITHUB_REPO, 6, head)
    project.checkout("main")
    result = cli("publish", "--from", str(artifact), env=_second_stage_env(fake_forge, tmp_path, head))
    assert result.code == 0, result.err
    comments = fake_forge.github.comments(GITHUB_REPO, 6)
    assert len(comments) == 1, "posted to the PR the API names for the head SHA"
    body = str(comments[0]["body"])
    assert "INJECTED" not in body
    assert "regressed" in body, "the base branch's gate (abs 0.01) decided, not the fork's"
    assert body.count("/blob/mlgate-assets/") == 2, "both plots were uploaded and linked"
    statuses = fake_forge.github.repos[GITHUB_REPO].statuses
    assert [(s["sha"], s["state"]) for s in statuses] == [(head, "failure")]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (
            lambda a: (a / "manifest.json").write_text('{"kind": "mlgate-handoff", "head_sha": "H"}'),
            "head_sha",
        ),
        (lambda a: _first_image(a).write_bytes(b"<svg onload=alert(1)>"), "not a PNG file"),
        (lambda a: _replace_with_link(a / "snapshot.json"), "not a regular file"),
    ],
)
def test_publish_refuses_the_artifact_when_it_was_tampered_with(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, tamper: object, message: str
) -> None:
    head, artifact = _first_stage(project, cli, fake_forge, tmp_path, plots=message == "not a PNG file")
    assert callable(tamper)
    tamper(artifact)
    project.checkout("main")
    result = cli("publish", "--from", str(artifact), env=_second_stage_env(fake_forge, tmp_path, head))
    assert result.code == 2
    assert message in result.err
    assert fake_forge.writes() == []


def test_publish_posts_nothing_when_no_open_pr_has_the_head_sha(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    head, artifact = _first_stage(project, cli, fake_forge, tmp_path, plots=False)
    project.checkout("main")
    result = cli("publish", "--from", str(artifact), env=_second_stage_env(fake_forge, tmp_path, head))
    assert result.code == 3
    assert "no open PR/MR has this head commit" in result.err
    assert fake_forge.writes() == []


def _first_image(artifact: Path) -> Path:
    names: list[str] = json.loads((artifact / "manifest.json").read_text())["images"]
    return artifact / names[0]


def _replace_with_link(path: Path) -> None:
    target = path.with_name("elsewhere.json")
    path.rename(target)
    path.symlink_to(target)
