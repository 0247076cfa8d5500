"""ci.detect: GitHub Actions, GitLab CI, Jenkins and local environments into one CiContext; the
GitHub runner's workflow-command escaping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from mlgate.ci import detect
from mlgate.ci.github_actions import annotation, annotation_lines, escape_data
from mlgate.ci.github_actions import detect as detect_github
from mlgate.errors import UsageError
from tests.gitproject import GitProject

PR_HEAD = "1" * 40
MERGE = "2" * 40


def _actions(tmp_path: Path, event: str, payload: Mapping[str, object], **extra: str) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return {
        "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": "octo/demo", "GITHUB_SHA": MERGE, "GITHUB_RUN_ID": "77", **extra,
    }  # fmt: skip


def _pull(head_repo: str = "octo/demo") -> dict[str, object]:
    return {
        "pull_request": {
            "number": 5,
            "head": {"sha": PR_HEAD, "ref": "feature", "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "repo": {"full_name": "octo/demo"}},
        },
        "repository": {"default_branch": "main"},
    }


def test_pull_request_uses_the_pr_head_sha_not_the_merge_commit_when_the_payload_has_it(
    tmp_path: Path,
) -> None:
    ci = detect(_actions(tmp_path, "pull_request", _pull(), GITHUB_TOKEN="ghs_secret1234"), tmp_path)
    assert (ci.forge, ci.provider, ci.number, ci.head_sha) == ("github", "github-actions", 5, PR_HEAD)
    assert (ci.base_branch, ci.default_branch, ci.fork, ci.read_only_token) == ("main", "main", False, False)
    assert ci.api_url == "https://api.github.com"
    assert ci.run_url == "https://github.com/octo/demo/actions/runs/77"
    assert "ghs_secret1234" not in repr(ci)
    assert ci.secrets == ("ghs_secret1234",)


def test_enterprise_urls_come_from_the_environment_when_set(tmp_path: Path) -> None:
    env = _actions(
        tmp_path, "push", {}, GITHUB_API_URL="https://ghe.example/api/v3", GITHUB_SERVER_URL="https://ghe.example",
        GITHUB_REF="refs/heads/main", GITHUB_REF_NAME="main",
    )  # fmt: skip
    ci = detect(env, tmp_path)
    assert (ci.api_url, ci.server_url, ci.head_sha, ci.branch) == (
        "https://ghe.example/api/v3", "https://ghe.example", MERGE, "main",
    )  # fmt: skip


def test_fork_pr_has_a_read_only_token_when_head_and_base_repos_differ(tmp_path: Path) -> None:
    ci = detect(_actions(tmp_path, "pull_request", _pull("mallory/demo")), tmp_path)
    assert ci.fork
    assert ci.read_only_token


def test_workflow_run_reads_the_head_sha_of_the_triggering_run_when_its_pr_list_is_empty(
    tmp_path: Path,
) -> None:
    payload = {"workflow_run": {"head_sha": PR_HEAD, "head_branch": "feature", "pull_requests": []}}
    ci = detect(_actions(tmp_path, "workflow_run", payload), tmp_path)
    assert (ci.event, ci.head_sha, ci.number) == ("workflow_run", PR_HEAD, None)


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("schedule", {"schedule": "0 3 * * 1"}),  # GitHub's schedule payload has no repository
        (
            "workflow_dispatch",
            {"inputs": {}, "ref": "refs/heads/main", "repository": {"default_branch": "main"}},
        ),
    ],
)
def test_scheduled_and_dispatched_runs_are_the_default_branch_head_with_no_pr_when_triggered(
    tmp_path: Path, event: str, payload: dict[str, object]
) -> None:
    env = _actions(tmp_path, event, payload, GITHUB_REF="refs/heads/main", GITHUB_REF_NAME="main")
    ci = detect(env, tmp_path)
    assert (ci.provider, ci.forge, ci.event) == ("github-actions", "github", event)
    assert (ci.head_sha, ci.branch, ci.number, ci.base_branch, ci.fork) == (MERGE, "main", None, None, False)
    assert ci.is_default_branch
    assert ci.run_url == "https://github.com/octo/demo/actions/runs/77"


def test_mlgate_token_wins_over_github_token_when_both_are_set(tmp_path: Path) -> None:
    env = _actions(tmp_path, "push", {}, GITHUB_TOKEN="ghs_aaaa1111", MLGATE_TOKEN="ghp_bbbb2222")
    ci = detect(env, tmp_path)
    assert (ci.token, ci.token_source) == ("ghp_bbbb2222", "MLGATE_TOKEN")


def test_gitlab_mr_pipeline_reads_the_source_branch_sha_and_the_self_managed_api(tmp_path: Path) -> None:
    env = {
        "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "3",
        "CI_SERVER_URL": "https://git.corp", "CI_API_V4_URL": "https://git.corp/api/v4",
        "CI_PROJECT_PATH": "group/demo", "CI_COMMIT_SHA": MERGE,
        "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": PR_HEAD,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_JOB_TOKEN": "glcbt-job1234",
        "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "9", "CI_MERGE_REQUEST_PROJECT_ID": "7",
    }  # fmt: skip
    ci = detect(env, tmp_path)
    assert (ci.forge, ci.number, ci.head_sha, ci.base_branch) == ("gitlab", 3, PR_HEAD, "main")
    assert (ci.api_url, ci.repo, ci.repo_url) == (
        "https://git.corp/api/v4",
        "group/demo",
        "https://git.corp/group/demo",
    )
    assert (ci.token_source, ci.fork) == ("CI_JOB_TOKEN", True)


def test_gitlab_token_wins_over_the_job_token_when_both_are_set(tmp_path: Path) -> None:
    env = {"GITLAB_CI": "true", "CI_JOB_TOKEN": "glcbt-job1234", "GITLAB_TOKEN": "glpat-abcd1234"}
    assert detect(env, tmp_path).token_source == "GITLAB_TOKEN"


def test_jenkins_takes_the_change_and_the_forge_from_the_flag_when_building_a_pr(tmp_path: Path) -> None:
    env = {
        "JENKINS_URL": "https://ci.corp/", "CHANGE_ID": "12", "GIT_COMMIT": PR_HEAD, "CHANGE_TARGET": "main",
        "CHANGE_URL": "https://github.com/octo/demo/pull/12", "BUILD_URL": "https://ci.corp/job/1/",
    }  # fmt: skip
    ci = detect(env, tmp_path, forge="github")
    assert (ci.provider, ci.forge, ci.repo, ci.api_url) == (
        "jenkins",
        "github",
        "octo/demo",
        "https://api.github.com",
    )
    assert (ci.number, ci.head_sha, ci.base_branch, ci.run_url) == (
        12,
        PR_HEAD,
        "main",
        "https://ci.corp/job/1/",
    )
    assert detect(env, tmp_path).forge == "none", "no flag: Jenkins publishes nothing"


def test_local_reads_git_and_publishes_nothing_when_no_forge_is_named(tmp_path: Path) -> None:
    project = GitProject(tmp_path / "repo")
    sha = project.commit("one")
    project.git("remote", "add", "origin", "git@gitlab.com:group/demo.git")
    ci = detect({}, project.root)
    assert (ci.provider, ci.forge, ci.head_sha, ci.branch, ci.repo) == (
        "local",
        "none",
        sha,
        "main",
        "group/demo",
    )
    assert detect({}, project.root, forge="gitlab").api_url == "https://gitlab.com/api/v4"


def test_annotations_escape_percent_cr_lf_and_property_separators_when_names_are_hostile() -> None:
    assert escape_data("50%\r\n::error::x") == "50%25%0D%0A::error::x"
    assert annotation("error", "a:b,c", "m\n::warning::y") == "::error title=a%3Ab%2Cc::m%0A::warning::y"
    lines = annotation_lines("warning", [f"m{i}" for i in range(25)], "t")
    assert len(lines) == 10
    assert lines[-1].endswith("… and 16 more: see the job summary")


def test_an_input_the_action_does_not_declare_is_exit_2_naming_it_when_running_as_the_action() -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "MLGATE_ACTION_INPUTS": "train-command backend",
        "INPUT_BACKEND": "docker",
    }
    detect_github(env)  # declared inputs only: fine
    with pytest.raises(UsageError) as caught:
        detect_github({**env, "INPUT_TRAIN_COMMAND": "python t.py"})
    assert caught.value.where == "action input train_command"
    assert "train-command" in (caught.value.hint or "")
    detect_github({"GITHUB_ACTIONS": "true", "INPUT_ANYTHING": "x"})  # not mlgate's action: not checked


def test_the_action_lists_exactly_its_inputs_in_mlgate_action_inputs() -> None:
    action = yaml.safe_load((Path(__file__).parents[2] / "action.yml").read_text())
    listed = action["runs"]["env"]["MLGATE_ACTION_INPUTS"].split()
    assert listed == list(action["inputs"])


def test_credential_named_variables_are_masked_too_when_the_job_has_them(tmp_path: Path) -> None:
    env = {
        "GITHUB_TOKEN": "ghs_forge_token_123", "HF_TOKEN": "hf_abcdefghijkl",
        "WANDB_API_KEY": "0123456789abcdef", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
        "DOCKER_PASSWORD": "hunter2hunter2",
        "SEED_TOKENIZER": "bpe-32k-vocab", "MY_TOKEN": "on", "PATH": "/usr/bin:/bin",
    }  # fmt: skip
    secrets = set(detect(env, tmp_path).secrets)
    assert {"ghs_forge_token_123", "hf_abcdefghijkl", "0123456789abcdef", "wJalrXUtnFEMI/K7MDENG"} <= secrets
    assert "hunter2hunter2" in secrets
    assert "bpe-32k-vocab" not in secrets  # TOKENIZER is not TOKEN
    assert "on" not in secrets
    assert "/usr/bin:/bin" not in secrets
