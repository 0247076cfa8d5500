"""A PR is judged by its base branch's gate rules, not by the ones it brings (DESIGN §3)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CliRunner
from tests.fakeforge import FakeForge
from tests.fakeforge.ci_env import CONFIG, github_env, setup_project
from tests.fakeforge.drive import GITHUB_REPO
from tests.gitproject import GitProject

pytest_plugins = ["tests.fakeforge.fixtures"]
LOOSE = CONFIG.replace("{metric: acc, abs: 0.01}", "{metric: acc, abs: 1, severity: warn}")


def _loosening_pr(project: GitProject, cli: CliRunner) -> str:
    setup_project(project, cli, acc=0.5)
    return project.commit("loosen the gate", **{".mlgate.yml": LOOSE})


def test_a_pr_that_loosens_its_own_gate_still_fails_by_the_base_branchs_rules(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    head = _loosening_pr(project, cli)
    result = cli("run", "--no-train", env=github_env(fake_forge, tmp_path, head))
    assert result.code == 1, result.err
    assert "this PR changes .mlgate.yml: the gate follows main's" in result.err
    statuses = [s for s in fake_forge.github.repos[GITHUB_REPO].statuses if s["sha"] == head]
    assert statuses[-1]["state"] == "failure"


def test_the_prs_own_rules_apply_when_trusted_with_trust_pr_config(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    head = _loosening_pr(project, cli)
    result = cli("run", "--no-train", "--trust-pr-config", env=github_env(fake_forge, tmp_path, head))
    assert result.code == 0, result.err
    assert "this PR changes" not in result.err


def test_the_prs_config_applies_when_the_base_has_none_yet(
    project: GitProject, cli: CliRunner, fake_forge: FakeForge, tmp_path: Path
) -> None:
    project.commit("model", metrics_dot_json={"acc": 0.9}, params_dot_yaml="lr: 0.1\n")
    project.branch("feature")
    head = project.commit("add mlgate", **{".mlgate.yml": CONFIG, "metrics_dot_json": {"acc": 0.5}})
    result = cli("run", "--no-train", "--forge", "none", env=github_env(fake_forge, tmp_path, head))
    assert "main has no mlgate config yet" in result.err
    assert result.code == 0, result.err  # no stored baseline: NO_BASELINE passes with a banner
