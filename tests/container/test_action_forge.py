"""The container action for real: the image run as the GitHub runner runs it (tests/container/actionrun.py,
host network), posting to the stateful fake forge, on a checkout of the demo project at the PR's merge
commit; and the docker training backend from inside it, through the runner's Docker socket.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.container.actionrun import PR, REPO, bot_comments, check_runs, open_pr, run_action
from tests.container.conftest import copy_project
from tests.fakeforge import FakeForge

pytestmark = pytest.mark.container


def test_pr_gets_sticky_comment_status_and_outputs_when_action_runs_on_passing_pr(
    mlgate_image: str, demo_passing: Path, fake_forge: FakeForge, tmp_path: Path
) -> None:
    workspace = copy_project(demo_passing, tmp_path / "ws")
    job = open_pr(fake_forge, workspace)
    done = run_action(mlgate_image, workspace, tmp_path / "runner", job, {"extra-args": "--no-train"})
    assert done.returncode == 0, done.tail
    head = job.event["pull_request"]["head"]["sha"]
    assert check_runs(fake_forge) == [(head, "success", "mlgate")], "on the PR head, not the merge commit"
    assert fake_forge.github.repos[REPO].statuses == [], "an App token's verdict is the check run alone"
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
    assert (first.returncode, second.returncode) == (1, 1), second.tail
    comments = bot_comments(fake_forge)
    assert len(comments) == 1, "the second run updates the sticky comment"
    assert "regressed" in comments[0]["body"]
    assert comments[0]["created_at"] <= comments[0]["updated_at"]
    head = job.event["pull_request"]["head"]["sha"]
    assert check_runs(fake_forge) == [(head, "failure", "mlgate")] * 2
    assert "eval.accuracy" in fake_forge.github.check_runs(REPO)[-1]["output"]["title"]
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
    assert done.returncode == 0, done.tail
    assert f"training in {BASE_IMAGE}" in done.stderr
    assert "scored 171 rows" in done.stderr, "the sibling's log streams into the step's"
    body = bot_comments(fake_forge)[0]["body"]
    assert "| `train.rows_scored` | — | 171 |" in body, "the metrics the sibling wrote are gated"
    assert "| `train.mlgate_in_image` | — | 0 |" in body, "it ran in the training image, not mlgate's"
    assert f"- Image: `{BASE_IMAGE}`" in body
    sibling_env = (workspace / "sibling-env.json").read_text()
    assert job.token not in sibling_env, "the forge token never reaches the training"
    assert _training_containers_of(workspace) == [], "the training container is removed"


def _training_containers_of(workspace: Path) -> list[str]:
    """mlgate's training containers on the daemon that mount `workspace` (others may share the daemon)."""
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "label=org.mlgate.train"], capture_output=True, text=True
    ).stdout.split()
    if not ids:
        return []
    inspect = ["docker", "inspect", "--format", "{{.Id}} {{range .Mounts}}{{.Source}} {{end}}", *ids]
    lines = subprocess.run(inspect, capture_output=True, text=True).stdout.splitlines()
    return [line.split()[0] for line in lines if str(workspace) in line.split()[1:]]
