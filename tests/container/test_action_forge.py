"""The container action for real: the image run as the GitHub runner runs it (tests/container/actionrun.py),
posting to the stateful fake forge, on a checkout of the demo project at the PR's merge commit.

NOTE: the step runs with `--network host`, as ../shared/harness/run-container-action.sh does. The fake forge
listens on 127.0.0.1 only (tests never open a port beyond loopback), and a host-network container shares
the host's loopback; binding it on the docker0 bridge instead would expose it to every container and to
the LAN. (GitHub's own runner uses a per-job bridge network, where the API is a public host anyway.)
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.container.actionrun import ActionResult, Job, run_action
from tests.container.conftest import copy_project
from tests.fakeforge import FakeForge

pytestmark = pytest.mark.container
REPO = "octo/demo"
PR = 7
BOT = "github-actions[bot]"


@pytest.fixture
def fake_forge() -> Iterator[FakeForge]:
    """The stateful fake GitHub on 127.0.0.1 with the repository; each test opens its own PR."""
    with FakeForge() as fake:
        fake.github.add_repo(REPO)
        yield fake


def _git(workspace: Path, *args: str) -> str:
    identity = ["-c", "user.email=runner@example.invalid", "-c", "user.name=runner"]
    done = subprocess.run(["git", "-C", str(workspace), *identity, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def pr_checkout(workspace: Path) -> tuple[str, str]:
    """What actions/checkout leaves for a `pull_request` (fetch-depth 0): the PR head merged into main as
    refs/pull/N/merge, detached; (merge SHA, head SHA). The demo's trained metrics stay in the work tree."""
    head = _git(workspace, "rev-parse", "HEAD")
    _git(workspace, "checkout", "-q", "--detach", "main")
    _git(workspace, "merge", "-q", "--no-ff", "-m", f"Merge {head} into main", head)
    return _git(workspace, "rev-parse", "HEAD"), head


def open_pr(fake: FakeForge, workspace: Path, token: str = FakeForge.GITHUB_ACTIONS_TOKEN) -> Job:
    """The PR on the fake forge, the checkout, and the job that runs the action for it."""
    merge, head = pr_checkout(workspace)
    fake.github.add_pull(REPO, PR, head)
    pull = {
        "number": PR,
        "head": {"sha": head, "ref": "demo/tune", "repo": {"full_name": REPO}},
        "base": {"sha": _git(workspace, "rev-parse", "main"), "ref": "main", "repo": {"full_name": REPO}},
    }
    event = {"action": "synchronize", "number": PR, "pull_request": pull}
    event["repository"] = {"full_name": REPO, "default_branch": "main"}
    api = fake.github_api_url
    return Job(event, REPO, api, fake.server.base, merge, f"refs/pull/{PR}/merge", token=token)


def bot_comments(fake: FakeForge) -> list[dict[str, Any]]:
    return [c for c in fake.github.comments(REPO, PR) if c["login"] == BOT]


def statuses(fake: FakeForge) -> list[tuple[str, str, str]]:
    return [(s["sha"], s["state"], s["context"]) for s in fake.github.repos[REPO].statuses]


def _log(done: ActionResult) -> str:
    return (done.stdout + done.stderr)[-3000:]


def test_pr_gets_sticky_comment_status_and_outputs_when_action_runs_on_passing_pr(
    mlgate_image: str, demo_passing: Path, fake_forge: FakeForge, tmp_path: Path
) -> None:
    workspace = copy_project(demo_passing, tmp_path / "ws")
    job = open_pr(fake_forge, workspace)
    done = run_action(mlgate_image, workspace, tmp_path / "runner", job, {"extra-args": "--no-train"})
    assert done.returncode == 0, _log(done)
    head = job.event["pull_request"]["head"]["sha"]
    assert statuses(fake_forge) == [(head, "success", "mlgate")], "on the PR head, not the merge commit"
    comments = bot_comments(fake_forge)
    assert len(comments) == 1
    assert "eval.accuracy" in comments[0]["body"]
    assert done.outputs["verdict"] in ("pass", "warn")
    assert done.outputs["comment-url"].endswith(f"/{REPO}/pull/{PR}#issuecomment-{comments[0]['id']}")
    assert done.outputs["report-path"] == "mlgate-report/report.md"
    assert (workspace / done.outputs["report-path"]).is_file(), "a later step finds the report there"
    assert "eval.accuracy" in done.summary
    assert f"/{REPO}/actions/runs/{job.run_id}" in done.summary


def test_failing_pr_exits_one_and_keeps_one_comment_when_action_runs_twice(
    mlgate_image: str, demo_failing: Path, fake_forge: FakeForge, tmp_path: Path
) -> None:
    workspace = copy_project(demo_failing, tmp_path / "ws")
    job = open_pr(fake_forge, workspace)
    first = run_action(mlgate_image, workspace, tmp_path / "runner1", job, {"extra-args": "--no-train"})
    second = run_action(mlgate_image, workspace, tmp_path / "runner2", job, {"extra-args": "--no-train"})
    assert (first.returncode, second.returncode) == (1, 1), _log(second)
    comments = bot_comments(fake_forge)
    assert len(comments) == 1, "the second run updates the sticky comment"
    assert "regressed" in comments[0]["body"]
    assert comments[0]["created_at"] <= comments[0]["updated_at"]
    head = job.event["pull_request"]["head"]["sha"]
    assert statuses(fake_forge) == [(head, "failure", "mlgate")] * 2
    assert "eval.accuracy" in fake_forge.github.repos[REPO].statuses[-1]["description"]
    assert second.outputs["verdict"] == "fail"
    assert second.outputs["comment-url"] == first.outputs["comment-url"]
    assert "::error title=mlgate::eval.accuracy: regressed" in second.stdout


SIBLING_TRAIN = """\
import csv, json, os
from pathlib import Path

rows = list(csv.DictReader(Path("eval/predictions.csv").open()))
metrics = json.loads(Path("demo-metrics.json").read_text())
metrics["eval"]["accuracy"] = sum(r["label"] == r["pred"] for r in rows) / len(rows)
metrics["train"] |= {"rows_scored": len(rows), "mlgate_in_image": int(Path("/opt/mlgate").exists())}
Path("metrics.json").write_text(json.dumps(metrics))
Path("sibling-env.json").write_text(json.dumps(dict(os.environ)))
print(f"scored {len(rows)} rows")
"""


def test_docker_backend_trains_in_sibling_container_when_action_has_the_socket(
    mlgate_image: str, demo_passing: Path, fake_forge: FakeForge, tmp_path: Path
) -> None:
    from tests.container.conftest import BASE_IMAGE

    workspace = copy_project(demo_passing, tmp_path / "ws")
    (workspace / "metrics.json").rename(workspace / "demo-metrics.json")
    (workspace / "sibling_train.py").write_text(SIBLING_TRAIN)
    job = open_pr(fake_forge, workspace)
    inputs = {"backend": "docker", "image": BASE_IMAGE, "train-command": "python3 sibling_train.py"}
    done = run_action(mlgate_image, workspace, tmp_path / "runner", job, inputs)
    assert done.returncode == 0, _log(done)
    assert f"training in {BASE_IMAGE}" in done.stderr
    assert "scored 171 rows" in done.stderr, "the sibling's log streams into the step's"
    body = bot_comments(fake_forge)[0]["body"]
    assert "| `train.rows_scored` | — | 171 |" in body, "the metrics the sibling wrote are gated"
    assert "| `train.mlgate_in_image` | — | 0 |" in body, "it ran in the training image, not mlgate's"
    assert f"- Image: `{BASE_IMAGE}`" in body
    sibling_env = (workspace / "sibling-env.json").read_text()
    assert job.token not in sibling_env, "the forge token never reaches the training"
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "label=org.mlgate.train"], capture_output=True, text=True
    )
    assert left.stdout.strip() == "", "the training container is removed"
