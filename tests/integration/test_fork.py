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


BASE_CONFIG = """\
metrics: [metrics.json]
params: [params.yaml]
gates:
  - {metric: acc, abs: 0.01}
baseline: {stores: [git-notes, ci-artifact]}
"""


@pytest.mark.parametrize("merge_base_kept", [True, False])
def test_publish_reads_the_base_config_and_baseline_through_the_api_when_the_workspace_is_no_clone(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path, merge_base_kept: bool
) -> None:
    head, artifact = _first_stage(project, cli, fake_forge, tmp_path, plots=False)
    project.checkout("main")
    saved = cli("baseline", "save", "--to-file", str(tmp_path / "baseline.json"))
    assert saved.code == 0, saved.err
    main_sha = project.git("rev-parse", "main")
    fake_forge.github.add_file(GITHUB_REPO, ".mlgate.yml", BASE_CONFIG.encode())
    snapshot = (tmp_path / "baseline.json").read_bytes()
    run_sha = main_sha if merge_base_kept else "e" * 40  # else: main's newest run, of a later commit
    fake_forge.github.add_run(GITHUB_REPO, run_sha, {"mlgate-baseline": {"baseline.json": snapshot}})
    fake_forge.github.add_pull(GITHUB_REPO, 6, head)
    work = tmp_path / "plain"  # a workflow_run job that only downloaded the artifact: no .git anywhere
    shutil.copytree(artifact, work / "artifact")
    (work / ".mlgate.yml").write_text("gates: [{metric: acc, abs: 1}]\n")  # planted: must not be read
    env = _second_stage_env(fake_forge, tmp_path, head)
    (tmp_path / "event-300.json").write_text(
        json.dumps({"workflow_run": {"head_sha": head, "pull_requests": []},
                    "repository": {"full_name": GITHUB_REPO, "default_branch": "main"}})
    )  # fmt: skip
    fake_forge.clear_log()
    result = cli("publish", "--from", "artifact", cwd=work, env=env)
    assert result.code == 0, result.err
    (comment,) = fake_forge.github.comments(GITHUB_REPO, 6)
    assert "regressed" in str(comment["body"]), "the base config read through the API decided"
    assert "0.9" in str(comment["body"]), "against the baseline main's CI kept"
    statuses = fake_forge.github.repos[GITHUB_REPO].statuses
    assert [(s["sha"], s["state"]) for s in statuses] == [(head, "failure")]
    paths = [record.path for record in fake_forge.log]
    assert "/api/v3/repos/octo/demo/contents/.mlgate.yml" in paths
    assert len(fake_forge.writes()) <= 4
    assert "git-notes need a git clone: skipped here" in result.out + result.err
    note = "Baseline: the newest one main's CI kept"
    assert (note in str(comment["body"])) is not merge_base_kept


def test_publish_is_exit_2_with_a_hint_when_no_clone_and_no_api_can_give_the_base_config(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    head, artifact = _first_stage(project, cli, fake_forge, tmp_path, plots=False)
    fake_forge.github.add_pull(GITHUB_REPO, 6, head)
    work = tmp_path / "plain"
    shutil.copytree(artifact, work / "artifact")
    result = cli("publish", "--from", "artifact", cwd=work, env=_second_stage_env(fake_forge, tmp_path, head))
    assert result.code == 2
    assert "the event names no base or default branch" in result.err
    assert "hint: check out the base branch first" in result.err
    assert fake_forge.writes() == []
