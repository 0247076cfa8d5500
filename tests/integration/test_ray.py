"""`train.backend: ray`: real jobs on a real single-machine Ray cluster, through `mlgate run` and `train`."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlgate.errors import TrainingError
from mlgate.training import rayjob, raypack
from mlgate.training.rayresults import Frames
from tests.conftest import CliRunner
from tests.gitproject import GitProject
from tests.ray_cluster import RayCluster, free_port, running_cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    with running_cluster() as cluster:
        yield cluster


TRAIN = """\
import csv, json, os
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

X, y = make_classification(n_samples=600, n_features=8, random_state=0)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, random_state=0)
pred = LogisticRegression(max_iter=200).fit(Xtr, ytr).predict(Xte)
if os.environ.get("WORSE") == "1":  # a regression the paired test cannot miss: a third of the answers flipped
    pred[: len(pred) // 3] = 1 - pred[: len(pred) // 3]
print("trained on", len(ytr), "rows", flush=True)
os.makedirs("eval", exist_ok=True)
json.dump({"accuracy": float((pred == yte).mean())}, open("metrics.json", "w"))
with open("eval/predictions.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "y_true", "y_pred"])
    w.writerows([i, int(t), int(p)] for i, (t, p) in enumerate(zip(yte, pred)))
"""


def config(address: str, command: str = "python train.py", train_extra: str = "", ray_extra: str = "") -> str:
    return (
        f"train:\n  command: {command}\n  backend: ray\n  timeout: 60s\n  env: {{WORSE: '0'}}\n{train_extra}"
        f"  ray: {{address: '{address}'{ray_extra}}}\n"
        "metrics: [metrics.json]\n"
        "predictions: {path: eval/predictions.csv, task: classification}\n"
        "gates:\n  - {metric: accuracy, abs: 0.01}\n"
        "baseline: {stores: [git-notes]}\n"
    )


def commit(project: GitProject, cfg: str, script: str = TRAIN) -> str:
    project.write(".gitignore", "metrics.json\neval/\nmlgate-report/\n.mlgate/\n")
    return project.commit("model", **{".mlgate.yml": cfg, "train_dot_py": script})


def run_record(project: GitProject) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((project.root / ".mlgate" / "run.json").read_text())
    return record


def test_sklearn_training_on_the_cluster_is_gated_locally_when_backend_is_ray(
    project: GitProject, cli: CliRunner, ray_cluster: RayCluster
) -> None:
    main_sha = commit(project, config(ray_cluster.url))
    on_main = cli("run")
    assert on_main.code == 0, on_main.err
    assert f"baseline saved for {main_sha[:12]}" in on_main.out
    assert "  | trained on 300 rows" in on_main.err
    assert "brought back from the cluster: eval/predictions.csv, metrics.json" in on_main.err
    record = run_record(project)
    assert record["backend"] == "ray"
    assert record["extra"]["ray_address"] == ray_cluster.url
    assert ray_cluster.job(record["extra"]["ray_job_id"])["status"] == "SUCCEEDED"
    assert record["extra"]["ray_job_id"].startswith(f"mlgate-{main_sha[:12]}-")
    assert float(record["extra"]["ray_queue_s"]) >= 0
    project.branch("feature")
    project.commit(
        "worse model", **{".mlgate.yml": config(ray_cluster.url).replace("WORSE: '0'", "WORSE: '1'")}
    )
    on_pr = cli("run")
    assert on_pr.code == 1, on_pr.err
    assert "mlgate: fail: 1 failing" in on_pr.out
    assert "`accuracy`" in (project.root / "mlgate-report" / "report.md").read_text()


def test_script_exit_3_is_exit_3_with_the_log_tail_when_on_ray_and_unchanged_trees_upload_once(
    project: GitProject, cli: CliRunner, ray_cluster: RayCluster
) -> None:
    commit(project, config(ray_cluster.url), "import sys\nprint('CUDA error: out of cheese')\nsys.exit(3)\n")
    project.write("metrics.json", {"accuracy": 0.9})  # stale metrics from an earlier run: the report goes out
    first = cli("train")
    assert first.code == 3, first.err
    assert "mlgate: error: train.command: training exited with code 3" in first.err
    assert "uploaded the working directory" in first.err
    assert "out of cheese" in " ".join(run_record(project)["log_tail"])
    assert run_record(project)["extra"]["ray_error_type"] == "JOB_ENTRYPOINT_COMMAND_ERROR"
    second = cli("run")
    assert second.code == 3
    assert "working directory unchanged" in second.err
    assert "uploaded the working directory" not in second.err
    assert "out of cheese" in (project.root / "mlgate-report" / "report.md").read_text()


def test_timeout_stops_the_job_on_the_cluster_when_on_ray(
    project: GitProject, cli: CliRunner, ray_cluster: RayCluster
) -> None:
    cfg = config(ray_cluster.url).replace("timeout: 60s", "timeout: 4s")
    commit(project, cfg, "import time\nprint('sleeping', flush=True)\ntime.sleep(120)\n")
    result = cli("train")
    assert result.code == 3, result.err
    assert "timed out" in result.err
    job_id = run_record(project)["extra"]["ray_job_id"]
    assert ray_cluster.job(job_id)["status"] == "STOPPED"
    assert run_record(project)["timed_out"] is True


def test_ctrl_c_stops_the_job_on_the_cluster_and_exits_130(
    project: GitProject, ray_cluster: RayCluster
) -> None:
    commit(project, config(ray_cluster.url), "import time\nprint('sleeping', flush=True)\ntime.sleep(120)\n")
    before = ray_cluster.job_ids()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlgate", "train"], cwd=project.root,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = project.root / ".mlgate" / "train.log"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (log.exists() and "sleeping" in log.read_text()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    (job_id,) = ray_cluster.job_ids() - before
    assert ray_cluster.job(job_id)["status"] == "STOPPED"


def test_gpus_asked_of_a_cluster_without_any_fail_fast_before_submitting(
    project: GitProject, cli: CliRunner, ray_cluster: RayCluster
) -> None:
    commit(project, config(ray_cluster.url, train_extra="  gpus: all\n"))
    before = ray_cluster.job_ids()
    started = time.monotonic()
    result = cli("train")
    assert time.monotonic() - started < 15
    assert result.code == 3, result.err
    assert f"no node of the Ray cluster at {ray_cluster.url} can hold {{CPU: 1, GPU: 1}}" in result.err
    assert "hint: lower train.gpus" in result.err
    assert ray_cluster.job_ids() == before, "nothing may be submitted"


def test_a_head_node_that_is_not_there_is_exit_3_with_a_hint_naming_it(
    project: GitProject, cli: CliRunner
) -> None:
    address = f"http://127.0.0.1:{free_port()}"
    commit(project, config(address))
    result = cli("train")
    assert result.code == 3, result.err
    assert f"the Ray dashboard at {address} cannot be reached" in result.err
    assert f"hint: is a Ray head node running with its dashboard at {address}?" in result.err
    assert "Traceback" not in result.err


def test_address_comes_from_ray_address_when_the_config_has_none(project: GitProject, cli: CliRunner) -> None:
    address = f"http://127.0.0.1:{free_port()}"
    commit(project, config(address).replace(f"address: '{address}'", "num_cpus: 1"))
    assert "train.ray.address: not set" in cli("train").err
    result = cli("train", env={"RAY_ADDRESS": address.removeprefix("http://")})
    assert f"the Ray dashboard at {address} cannot be reached" in result.err


def test_a_working_dir_over_the_size_limit_fails_before_upload(
    project: GitProject, cli: CliRunner, ray_cluster: RayCluster
) -> None:
    commit(project, config(ray_cluster.url))
    for i in range(5):
        with (project.root / f"weights-{i}.bin").open("wb") as handle:
            handle.truncate(21 * 1024 * 1024)  # sparse: the size counts, no bytes are written
    before = ray_cluster.job_ids()
    result = cli("train")
    assert result.code == 3, result.err
    assert "train.ray.working_dir:" in result.err
    assert "105.0 MiB to upload, over the limit of 100.0 MiB" in result.err
    assert "hint: add the data folders to train.ray.excludes" in result.err
    assert "uploaded" not in result.err
    assert ray_cluster.job_ids() == before


def test_a_custom_resource_routes_the_job_to_the_node_that_has_it(
    project: GitProject, cli: CliRunner, ray_cluster: RayCluster
) -> None:
    node_id = ray_cluster.node_with("special")
    cmd = "python -c \"import os, json; json.dump({'accuracy': 1.0}, open('metrics.json', 'w'))\""
    commit(project, config(ray_cluster.url, command=json.dumps(cmd), ray_extra=", resources: {special: 1}"))
    result = cli("train")
    assert result.code == 0, result.err
    assert node_id[:12] in run_record(project)["extra"]["ray_node"]
    assert json.loads((project.root / "metrics.json").read_text()) == {"accuracy": 1.0}
    assert os.path.exists(project.root / ".mlgate" / "train.log")


def test_result_files_survive_the_log_framing_and_damage_is_refused(tmp_path: Path) -> None:
    job_side = tmp_path / "cluster"
    (job_side / "eval").mkdir(parents=True)
    payload = os.urandom(200_000)
    (job_side / "eval" / "model.bin").write_bytes(payload)
    framed = io.StringIO()
    rayjob.emit(str(job_side), "eval/model.bin", framed)
    frames = Frames(tmp_path / "runner")
    assert all(frames.feed(line) for line in framed.getvalue().splitlines())
    assert (tmp_path / "runner" / "eval" / "model.bin").read_bytes() == payload
    assert frames.written == ["eval/model.bin"]
    lines = framed.getvalue().splitlines()
    lines[1] = lines[1][::-1]
    damaged = Frames(tmp_path / "other")
    for line in lines[:-1]:
        damaged.feed(line)
    with pytest.raises(TrainingError, match="came back damaged"):
        damaged.feed(lines[-1])
    assert not (tmp_path / "other" / "eval" / "model.bin").exists()


def test_a_framed_path_outside_the_work_tree_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="outside the work tree"):
        Frames(tmp_path).feed(f'{rayjob.MARK} begin "../evil.sh" 3')


def test_the_package_leaves_out_defaults_excludes_large_files_and_last_outputs(tmp_path: Path) -> None:
    for rel in ("train.py", "src/model.py", ".git/HEAD", "data/x.csv", "logs/a.ckpt", "sub/__pycache__/m.pyc",
                "metrics.json", "big.bin"):  # fmt: skip
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x" * (2000 if rel == "big.bin" else 10))
    package = raypack.scan(tmp_path, ["data/", "*.ckpt"], 1000, 10_000, outputs=["metrics.json"])
    assert [name for name, _ in package.files] == ["src/model.py", "train.py"]
    assert package.left_out == (("big.bin", 2000),)


def test_the_package_hash_and_zip_are_stable_until_a_file_changes(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    first = raypack.with_launcher(raypack.scan(tmp_path, [], 1000, 10_000), b"launcher")
    again = raypack.with_launcher(raypack.scan(tmp_path, [], 1000, 10_000), b"launcher")
    assert first.digest == again.digest
    assert raypack.build_zip(first) == raypack.build_zip(again)
    names = zipfile.ZipFile(io.BytesIO(raypack.build_zip(first))).namelist()
    assert names == ["train.py", ".mlgate/rayjob.py"]
    (tmp_path / "train.py").write_text("print(2)\n")
    assert raypack.with_launcher(raypack.scan(tmp_path, [], 1000, 10_000), b"launcher").digest != first.digest
